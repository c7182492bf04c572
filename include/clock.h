/*
 * clock: monotonic seconds and UTC timestamps.
 *
 * Ownership: timestamps are written into the caller's buffer.
 */
#ifndef PE_CLOCK_H
#define PE_CLOCK_H

#include <stddef.h>

/* Seconds from a monotonic clock. */
double pe_now(void);
/* Wall-clock UTC time as "2026-11-25T20:46:38Z" (buf of at least 21 bytes). */
void pe_utc_iso(char *buf, size_t n);
/* Wall-clock UTC time as "20261125T204638Z", for directory names. */
void pe_utc_compact(char *buf, size_t n);

#endif
