#include "arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

#define DEFAULT_BLOCK ((size_t)64 << 10)
#define ALIGN (alignof(max_align_t))

typedef struct block {
    struct block *next;
    size_t size, used;
    alignas(max_align_t) unsigned char data[];
} block;

struct pe_arena {
    block *head; /* the block being filled; older blocks follow */
    size_t next_size, bytes;
    int refs;
    pe_arena **held;
    size_t nheld, heldcap;
};

pe_arena *arena_new(size_t first_block)
{
    pe_arena *a = xcalloc(1, sizeof *a);
    a->next_size = first_block ? first_block : DEFAULT_BLOCK;
    a->refs = 1;
    return a;
}

void arena_unref(pe_arena *a)
{
    if (!a || --a->refs > 0)
        return;
    for (block *b = a->head, *n; b; b = n) {
        n = b->next;
        free(b);
    }
    for (size_t i = 0; i < a->nheld; i++)
        arena_unref(a->held[i]);
    free(a->held);
    free(a);
}

static void new_block(pe_arena *a, size_t need)
{
    size_t size = a->next_size > need ? a->next_size : need;
    block *b = xmalloc(sizeof *b + size);
    b->size = size;
    b->used = 0;
    /* a block that is only partly used keeps being filled; a large one-off
     * request goes behind it so the space left there is not lost */
    if (a->head && need > a->next_size && a->head->used < a->head->size) {
        b->next = a->head->next;
        a->head->next = b;
    } else {
        b->next = a->head;
        a->head = b;
    }
    a->bytes += size;
    if (a->next_size < ((size_t)1 << 20))
        a->next_size = a->next_size < DEFAULT_BLOCK ? DEFAULT_BLOCK : a->next_size * 2;
}

/* Room for n bytes at an aligned offset of b, or SIZE_MAX. */
static size_t fit(const block *b, size_t n)
{
    size_t at = (b->used + ALIGN - 1) & ~(ALIGN - 1);
    return at <= b->size && b->size - at >= n ? at : SIZE_MAX;
}

void *arena_alloc(pe_arena *a, size_t n)
{
    block *b;
    size_t at;
    if (n > SIZE_MAX / 2)
        return xmalloc(SIZE_MAX); /* aborts */
    if (!n)
        n = 1;
    if (!a->head || (at = fit(a->head, n)) == SIZE_MAX) {
        new_block(a, n);
        b = fit(a->head, n) != SIZE_MAX ? a->head : a->head->next; /* a one-off goes behind */
        at = fit(b, n);
    } else {
        b = a->head;
    }
    b->used = at + n;
    return b->data + at;
}

void *arena_calloc(pe_arena *a, size_t n)
{
    void *p = arena_alloc(a, n);
    memset(p, 0, n);
    return p;
}

char *arena_strndup(pe_arena *a, const char *s, size_t n)
{
    char *p;
    /* strings need no alignment: take them byte-exact from the current block */
    if (a->head && a->head->size - a->head->used >= n + 1) {
        p = (char *)a->head->data + a->head->used;
        a->head->used += n + 1;
    } else {
        p = arena_alloc(a, n + 1);
    }
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(pe_arena *a, const char *s)
{
    return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

void arena_hold(pe_arena *a, pe_arena *b)
{
    if (!b)
        return;
    b->refs++;
    a->held = xgrow(a->held, &a->heldcap, a->nheld + 1, sizeof *a->held);
    a->held[a->nheld++] = b;
}

void arena_adopt(pe_arena *a, pe_arena *b)
{
    block *last;
    if (!b)
        return;
    if (b->head) {
        /* b's blocks go behind a's current block, which keeps being filled */
        for (last = b->head; last->next; last = last->next)
            ;
        if (a->head) {
            last->next = a->head->next;
            a->head->next = b->head;
        } else {
            a->head = b->head;
        }
        a->bytes += b->bytes;
        b->head = NULL;
    }
    for (size_t i = 0; i < b->nheld; i++)
        arena_hold(a, b->held[i]);
    arena_unref(b);
}

size_t arena_bytes(const pe_arena *a)
{
    return a ? a->bytes : 0;
}
