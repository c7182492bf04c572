/*
 * util: the base layer in one include, for files that use several of its
 * modules: status (exit codes, pe_err), alloc, files, sha256, hash, text,
 * clock, number, rng and strmap. Each header states its own ownership rule.
 *
 * Ownership: see each included header; this one declares nothing itself.
 */
#ifndef PE_UTIL_H
#define PE_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "clock.h"
#include "files.h"
#include "hash.h"
#include "number.h"
#include "rng.h"
#include "sha256.h"
#include "status.h"
#include "strmap.h"
#include "text.h"

#endif
