/*
 * sweep: --sweep NAME=v1,v2,... runs one evaluation per value of one setting
 * (align-batch, align-iters, k, max-steps) through pe_run() into
 * sub-directories of one folder, then writes sweep.csv and an SVG line chart
 * per metric (the paper's Figure 3).
 *
 * Ownership: borrows the config; everything it makes is written to out_dir.
 */
#ifndef PE_SWEEP_H
#define PE_SWEEP_H

#include "run_config.h"

/* Returns the worst status of the runs (0, or PE_EXIT_RUNERRORS when some
 * queries ended in error), or the code that stopped the sweep, with e filled.
 * Each run is announced through c->log. */
int sweep_run(const pe_run_config *c, const char *spec, const char *out_dir, pe_err *e);

#endif
