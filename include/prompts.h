/*
 * prompts: the plain-text prompt templates in prompts/, compiled into the
 * binary and overridable file by file with --prompts DIR; rendering of
 * {{name}} placeholders.
 *
 * Ownership: prompts_load() builds a set the caller frees with prompts_free();
 * it is read-only afterwards and safe to share between threads. Rendered
 * strings are the caller's to free().
 */
#ifndef PE_PROMPTS_H
#define PE_PROMPTS_H

#include "buf.h"
#include "util.h"

typedef struct prompt_set prompt_set;

/* The built-in templates, each replaced by DIR/<name>.txt when dir is non-NULL
 * and that file exists. A file in DIR that names no template is an error (a
 * typo would otherwise be silently ignored). */
int prompts_load(const char *dir, prompt_set **out, pe_err *e);
void prompts_free(prompt_set *p);

/* A template's text, or NULL when there is none of that name. */
const char *prompts_get(const prompt_set *p, const char *name);

/* Render template `name` with kv = {"key", "value", ..., NULL}: every
 * {{key}} is replaced by its value. A placeholder without a value is an error
 * (PE_EXIT_DATA) naming the template and the placeholder. Marks the template
 * as used. Returns NULL on error. */
char *prompts_render(const prompt_set *p, const char *name, const char *const *kv, pe_err *e);

/* SHA-256 over every template's name and text: it changes when any
 * template (built in or overridden) does. */
void prompts_digest(const prompt_set *p, char out[65]);

/* {"name": {"sha256": "...", "source": "built-in" | "DIR/name.txt"}, ...}
 * for every template rendered so far. */
void prompts_used_json(const prompt_set *p, buf *b);

#endif
