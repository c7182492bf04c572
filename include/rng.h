/*
 * rng: a deterministic PRNG (splitmix64-seeded xoshiro256**), the same
 * sequence on every platform for a seed.
 *
 * Ownership: a pe_rng is a plain value the caller keeps; no allocation.
 */
#ifndef PE_RNG_H
#define PE_RNG_H

#include <stdint.h>

/* The seed of every bootstrap and sample when none is given (--seed): run,
 * sweep, score, report and merge use this one value, so that their intervals
 * agree for the same predictions. */
#define PE_SEED_DEFAULT 42

typedef struct pe_rng { uint64_t s[4]; } pe_rng;
void pe_rng_seed(pe_rng *r, uint64_t seed);
uint64_t pe_rng_next(pe_rng *r);
/* Uniform integer in [0, n). */
uint64_t pe_rng_below(pe_rng *r, uint64_t n);
double pe_rng_unit(pe_rng *r); /* [0, 1) */

#endif
