// faiss_flat: Q=64 queries against N=10^5 items of d=1024 (K=4), one
// thread: FAISS's flat inner-product index (IndexFlatIP::search, sgemm and
// heaps) beside topk_search_batch(), taking turns over several rounds so
// that load from other processes falls on both alike; each keeps its best.
// Built and run by tests/run-bench.sh only when Debian's libfaiss-dev is
// installed (C++, so not one of the bench_*.c programs). Printed, never
// asserted.
#include <faiss/IndexFlat.h>
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <vector>

extern "C" {
#include "topk.h"
}

static double now()
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

static void fill(std::vector<float> &v, unsigned long long x)
{
    for (auto &f : v) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        f = (float)((x >> 40) & 0xffff) / 65536.0f - 0.5f;
    }
}

int main()
{
    const size_t n = 100000, d = 1024, nq = 64, k = 4;
    std::vector<float> items(n * d), qs(nq * d), dist(nq * k);
    std::vector<faiss::Index::idx_t> labels(nq * k);
    std::vector<topk_hit> hits(nq * k);
    std::vector<size_t> counts(nq);
    double best_faiss = 1e9, best_ours = 1e9;
    size_t agree = 0;

    omp_set_num_threads(1);
    topk_set_blas_threads(1);
    fill(items, 7);
    fill(qs, 9);
    faiss::IndexFlatIP index((faiss::Index::idx_t)d);
    index.add((faiss::Index::idx_t)n, items.data());
    for (int round = 0; round < 5; round++) {
        double t = now();
        index.search((faiss::Index::idx_t)nq, qs.data(), (faiss::Index::idx_t)k, dist.data(),
                     labels.data());
        double f = now() - t;
        t = now();
        topk_search_batch(items.data(), n, d, qs.data(), nq, k, nullptr, hits.data(),
                          counts.data());
        double o = now() - t;
        best_faiss = f < best_faiss ? f : best_faiss;
        best_ours = o < best_ours ? o : best_ours;
    }
    for (size_t q = 0; q < nq; q++)
        agree += (size_t)labels[q * k] == hits[q * k].index;
    std::printf("Q=%zu, N=%zu, d=%zu, K=%zu, one thread:\n", nq, n, d, k);
    std::printf("  FAISS IndexFlatIP      %8.1f ms per batch\n", best_faiss * 1e3);
    std::printf("  topk_search_batch      %8.1f ms per batch (%.2fx FAISS; same best item "
                "for %zu of %zu queries)\n",
                best_ours * 1e3, best_faiss / best_ours, agree, nq);
    return 0;
}
