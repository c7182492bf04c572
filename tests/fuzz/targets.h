/*
 * targets: the fuzzing entry points, shared by the libFuzzer programs
 * (tests/fuzz/fuzz_*.c, built by `make fuzz`) and the regression suite
 * (tests/check_fuzz_regressions.c), which replays saved crash inputs.
 *
 * Each takes arbitrary bytes and returns the status the library returned for
 * them (0 or a PE_EXIT_* code); any crash, leak or undefined behaviour is a bug.
 * Input layout (first bytes select the variant, so a seed is plain text):
 *   fz_dataset: byte 0 % 4 picks the task (lamp1, lamp2m, lamp2n, lamp3),
 *               byte 1 % 4 the format (auto, lamp, grouped, jsonl); the rest is the file.
 *   fz_chat:    the whole input is a chat-completion (or error) body.
 *   fz_react:   byte 0 & 1 is `last`; the rest is one model turn.
 *   fz_score:   byte 0 % 4 picks the task; byte 1 % 2: 0 = official golds and
 *               predictions files separated by a line "--", 1 = a run folder's
 *               predictions.jsonl (scored by `score` and by report_load_predictions).
 *               Either way the lines are also scored pairwise with metrics_compute.
 */
#ifndef PE_FUZZ_TARGETS_H
#define PE_FUZZ_TARGETS_H

#include <stddef.h>
#include <stdint.h>

int fz_dataset(const uint8_t *data, size_t size);
int fz_chat(const uint8_t *data, size_t size);
int fz_react(const uint8_t *data, size_t size);
int fz_score(const uint8_t *data, size_t size);

/* Whether rc is a status the entry point may return. */
int fz_sane_rc(int rc);

#endif
