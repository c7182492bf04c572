/*
 * arena: bump allocation for data that lives and dies together (a loaded
 * dataset's strings and arrays), in blocks freed all at once.
 *
 * Ownership: arena_new() returns an arena with one reference; arena_unref()
 * drops it and frees every block (and the references the arena holds) when
 * the last goes. Memory from arena_alloc()/arena_strdup() is never freed on its
 * own. arena_hold(a, b) makes a keep b alive (for data that points into b);
 * arena_adopt(a, b) moves b's blocks into a and frees b. An arena is used by
 * one thread at a time.
 */
#ifndef PE_ARENA_H
#define PE_ARENA_H

#include <stddef.h>

typedef struct pe_arena pe_arena;

/* An empty arena whose first block will hold at least first_block bytes
 * (0: a default size); later blocks grow as needed. */
pe_arena *arena_new(size_t first_block);
void arena_unref(pe_arena *a); /* NULL is fine */
/* n bytes aligned for any object (never NULL; aborts on out-of-memory). */
void *arena_alloc(pe_arena *a, size_t n);
/* n zeroed bytes. */
void *arena_calloc(pe_arena *a, size_t n);
/* A NUL-terminated copy of n bytes of s; arena_strdup(NULL) is NULL. */
char *arena_strndup(pe_arena *a, const char *s, size_t n);
char *arena_strdup(pe_arena *a, const char *s);
void arena_hold(pe_arena *a, pe_arena *b);
void arena_adopt(pe_arena *a, pe_arena *b);
/* Bytes in blocks (what the arena costs in memory). */
size_t arena_bytes(const pe_arena *a);

#endif
