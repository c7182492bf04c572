/* bench_encoder: documents/s and MB/s of fitting and encoding a user's
 * history with bm25 and tfidf, on ~100 MB of generated text split into users
 * of 100 documents (as memory_build() does it). Printed, never asserted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "encoder.h"
#include "util.h"

#define TOTAL_BYTES ((size_t)100 << 20)
#define DOCS_PER_USER 100

static char *gen_doc(pe_rng *g)
{
    static const char *extra[] = {"caf\xc3\xa9", "na\xc3\xafve", "\xc3\x89t\xc3\xa9", "r\xc3\xb4le",
                                  "don't", "well-known", "U.S.", "(2014)"};
    size_t words = 40 + (size_t)pe_rng_below(g, 160);
    buf b = BUF_INIT;
    for (size_t i = 0; i < words; i++) {
        uint64_t c = pe_rng_below(g, 100);
        if (i)
            buf_addc(&b, ' ');
        if (c < 3)
            buf_adds(&b, extra[pe_rng_below(g, 8)]);
        else if (c < 6)
            buf_printf(&b, "Word%u,", (unsigned)pe_rng_below(g, 5000));
        else
            buf_printf(&b, "w%u", (unsigned)pe_rng_below(g, pe_rng_below(g, 20000) + 1));
    }
    return buf_detach(&b);
}

int main(void)
{
    pe_rng g;
    size_t cap = 0, n = 0, bytes = 0;
    char **docs = NULL;
    float *out = xmalloc((size_t)DOCS_PER_USER * ENCODER_DEFAULT_DIM * sizeof *out);
    const encoder_kind kinds[] = {ENCODER_BM25, ENCODER_TFIDF};

    pe_rng_seed(&g, 42);
    while (bytes < TOTAL_BYTES) {
        docs = xgrow(docs, &cap, n + 1, sizeof *docs);
        docs[n] = gen_doc(&g);
        bytes += strlen(docs[n++]);
    }
    printf("corpus: %zu documents, %.1f MB, users of %d documents, dim %d, one thread\n\n", n,
           (double)bytes / 1e6, DOCS_PER_USER, ENCODER_DEFAULT_DIM);
    printf("%-6s %12s %10s %12s %10s\n", "kind", "fit docs/s", "fit MB/s", "fit+enc d/s",
           "fit+enc MB/s");
    for (size_t k = 0; k < 2; k++) {
        encoder_opts o = {.kind = kinds[k]};
        double tfit = 0, tall = 0;
        for (size_t u = 0; u < n; u += DOCS_PER_USER) {
            size_t m = n - u < DOCS_PER_USER ? n - u : DOCS_PER_USER;
            const char *const *d = (const char *const *)docs + u;
            encoder *enc;
            pe_err e = {0};
            double t0 = pe_now(), t1;
            if (encoder_fit(&o, d, m, &enc, &e) != 0 ||
                ((t1 = pe_now()), encoder_encode_docs(enc, d, m, out, &e) != 0)) {
                fprintf(stderr, "bench_encoder: %s\n", e.msg);
                return 1;
            }
            tfit += t1 - t0;
            tall += pe_now() - t0;
            encoder_free(enc);
        }
        printf("%-6s %12.0f %10.1f %12.0f %10.1f\n", encoder_kind_name(kinds[k]),
               (double)n / tfit, (double)bytes / 1e6 / tfit, (double)n / tall,
               (double)bytes / 1e6 / tall);
    }
    for (size_t i = 0; i < n; i++)
        free(docs[i]);
    free(docs);
    free(out);
    return 0;
}
