/*
 * runctl: what `run` adds for running at scale: --resume, --shard/--shards,
 * --grace and --progress. It applies the shard to the loaded users, hashes the
 * canonical settings (config_hash), checks a resumed run against its run.json,
 * repairs torn tails and collects the answered queries the runner skips, sets
 * up the progress line, and writes its part of run.json.
 *
 * Ownership: runctl_prepare() takes the settings object; runctl_free()
 * releases everything a runctl holds.
 */
#ifndef PE_RUNCTL_H
#define PE_RUNCTL_H

#include <cJSON.h>
#include <getopt.h>
#include <stddef.h>

#include "buf.h"
#include "dataset.h"
#include "progress.h"
#include "resume.h"
#include "runner.h"
#include "shard.h"

enum { RUNCTL_O_RESUME = 1000, RUNCTL_O_SHARD, RUNCTL_O_SHARDS, RUNCTL_O_GRACE,
       RUNCTL_O_PROGRESS };

/* Entries for the run subcommand's getopt_long table. */
#define RUNCTL_LONG_OPTIONS                                               \
    {"resume", required_argument, NULL, RUNCTL_O_RESUME},                 \
    {"shard", required_argument, NULL, RUNCTL_O_SHARD},                   \
    {"shards", required_argument, NULL, RUNCTL_O_SHARDS},                 \
    {"grace", required_argument, NULL, RUNCTL_O_GRACE},                   \
    {"progress", required_argument, NULL, RUNCTL_O_PROGRESS}

#define RUNCTL_USAGE                                                                        \
    "  --resume DIR        continue the run in DIR (same options as it was started with)\n" \
    "  --shard I/N         run only shard I of N (users split by a hash of their id)\n"     \
    "  --shard auto --shards N\n"                                                           \
    "                      the index from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX\n"    \
    "  --grace S           on SIGINT/SIGTERM, wait S seconds for queries in flight\n"       \
    "                      (default 30)\n"                                                  \
    "  --progress WHEN     auto, always or never: the status line on stderr (default auto)\n"

typedef struct runctl {
    /* options */
    const char *resume;
    const char *shard_spec;
    size_t shards;
    double grace_s;
    progress_mode progress;
    int progress_given;
    /* state */
    shard sh;
    size_t users_total;   /* users selected before sharding */
    size_t *positions;    /* each kept user's position before sharding */
    const dataset *data;
    cJSON *settings;
    char hash[65];
    resume_set *done;
    size_t cut;           /* bytes of torn tails cut on resume */
    long resumes;         /* times this run directory was resumed */
    progress *prog;
} runctl;

void runctl_init(runctl *r);
/* Handle one of the RUNCTL_O_* options. */
int runctl_option(runctl *r, int ch, const char *arg, pe_err *e);
/* After the users are selected: shard them, hash settings (taken over), and
 * for --resume check run.json, cut torn tails and load what is done. *out is
 * set to the resume folder (an --out naming another folder is an error). */
int runctl_prepare(runctl *r, dataset *d, cJSON *settings, const char **out, pe_err *e);
/* Fill the runner options this module owns (skip set, progress, grace). */
void runctl_runner_opts(runctl *r, runner_opts *ro, int quiet);
/* After the runner returns: close the progress line. */
void runctl_finish(runctl *r);
/* run.json members, each written as `  "key": value,\n`: config, config_hash, shard,
 * users_total, users, user_positions, resumes. */
void runctl_run_json(const runctl *r, buf *b);
void runctl_free(runctl *r);

#endif
