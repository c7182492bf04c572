// faiss_flat: Q=64 queries against N=10^5 items of d=1024 (K=4), one thread
// each and then two: FAISS's flat inner-product index (IndexFlatIP::search,
// sgemm and heaps) beside topk_search_batch(), taking turns over several
// rounds so that load from other processes falls on both alike; medians.
// Built and run by tests/run-bench.sh only when Debian's libfaiss-dev is
// installed (C++, so not one of the bench_*.c programs). Printed, never
// asserted.
#include <faiss/IndexFlat.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

extern "C" {
#include "dot.h"
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

static double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main()
{
    const size_t n = 100000, d = 1024, nq = 64, k = 4, rounds = 7;
    std::vector<float> items(n * d), qs(nq * d), dist(nq * k);
    std::vector<faiss::Index::idx_t> labels(nq * k);
    std::vector<topk_hit> hits(nq * k);
    std::vector<size_t> counts(nq);

    fill(items, 7);
    fill(qs, 9);
    faiss::IndexFlatIP index((faiss::Index::idx_t)d);
    index.add((faiss::Index::idx_t)n, items.data());
    for (int threads = 1; threads <= 2; threads++) {
        std::vector<double> tf, to, ratio;
        size_t agree = 0;
        omp_set_num_threads(threads);
        topk_set_blas_threads(threads);
        for (size_t round = 0; round < rounds; round++) {
            double t = now();
            index.search((faiss::Index::idx_t)nq, qs.data(), (faiss::Index::idx_t)k,
                         dist.data(), labels.data());
            double f = now() - t;
            t = now();
            topk_search_batch(items.data(), n, d, qs.data(), nq, k, nullptr, hits.data(),
                              counts.data());
            double o = now() - t;
            tf.push_back(f);
            to.push_back(o);
            ratio.push_back(f / o);
        }
        for (size_t q = 0; q < nq; q++)
            agree += (size_t)labels[q * k] == hits[q * k].index;
        std::sort(ratio.begin(), ratio.end());
        std::printf("Q=%zu, N=%zu, d=%zu, K=%zu, %d thread%s each (FAISS: OpenMP, ours: "
                    "topk_set_blas_threads), medians of %zu rounds:\n",
                    nq, n, d, k, threads, threads > 1 ? "s" : "", rounds);
        std::printf("  FAISS IndexFlatIP::search  %8.1f ms per batch\n", median(tf) * 1e3);
        std::printf("  topk_search_batch          %8.1f ms per batch (kernel %s)\n",
                    median(to) * 1e3, dot_kernel());
        std::printf("  topk_search_batch is %.2fx FAISS (per round %.2f-%.2f); same best item "
                    "for %zu of %zu queries\n\n",
                    median(tf) / median(to), ratio.front(), ratio.back(), agree, nq);
    }
    return 0;
}
