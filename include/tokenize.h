/*
 * tokenize: the two tokenizers of the lexical encoders, as an iterator that
 * hands out one token at a time without allocating per token.
 *   lamp   Python str.split(): runs of non-whitespace (Unicode whitespace as
 *          str.isspace()), case kept, as LaMP's BM25.
 *   words  runs of letters and digits, ASCII and Latin-1/Latin Extended-A
 *          letters lower-cased (docs/memory.md lists the classes).
 *
 * Ownership: an iterator borrows the text (it must outlive the walk) and
 * owns a scratch buffer for lowered tokens, released by tokenize_done(); a
 * token handed out stays valid until the next call. Iterators are
 * independent: one per thread.
 */
#ifndef PE_TOKENIZE_H
#define PE_TOKENIZE_H

#include <stddef.h>

#include "encoder.h"

typedef struct tokenize_iter {
    const unsigned char *s;
    size_t len, pos;
    encoder_tok mode; /* never ENCODER_TOK_DEFAULT once started */
    unsigned char *low;
    size_t lowcap;
} tokenize_iter;

#define TOKENIZE_ITER_INIT {0}

/* Start walking text (NULL = "") under mode (DEFAULT = lamp); the scratch
 * buffer of an earlier walk is reused. */
void tokenize_start(tokenize_iter *it, const char *text, encoder_tok mode);
/* 1: the next token in (*tok, *n); 0: end of text; -1: invalid UTF-8 at byte
 * *bad of the text. */
int tokenize_next(tokenize_iter *it, const unsigned char **tok, size_t *n, size_t *bad);
void tokenize_done(tokenize_iter *it);

#endif
