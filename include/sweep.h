/*
 * sweep: --sweep NAME=v1,v2,... runs the same command once per value of one
 * setting (align-batch, align-iters, k, max-steps) into sub-directories of one
 * folder, then writes sweep.csv and an SVG line chart per metric (the paper's
 * Figure 3).
 */
#ifndef PE_SWEEP_H
#define PE_SWEEP_H

/* run is the run subcommand (called once per value with the sweep's argv
 * rewritten); returns the process exit status. */
int sweep_run(int argc, char **argv, const char *spec, const char *out_dir,
              int (*run)(int, char **));

#endif
