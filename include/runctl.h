/*
 * runctl: what a run adds for running at scale: resume, shards, the grace
 * period and the progress line (the options come from pe_run_config). It applies the shard to the loaded users, hashes the
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
#include <stddef.h>

#include "buf.h"
#include "dataset.h"
#include "progress.h"
#include "resume.h"
#include "runner.h"
#include "shard.h"

typedef struct runctl {
    /* options */
    const char *resume;
    const char *shard_spec;
    size_t shards;
    double grace_s;
    progress_mode progress;
    /* state */
    shard sh;
    size_t users_total;   /* users selected before sharding */
    size_t *positions;    /* each kept user's position before sharding */
    dataset rest;         /* the users of the other shards */
    const dataset *data;
    cJSON *settings;
    char hash[65];
    resume_set *done;
    size_t cut;           /* bytes of torn tails cut on resume */
    long resumes;         /* times this run directory was resumed */
    progress *prog;
} runctl;

/* Take the scale options: resume folder, shard spec ("I/N" or "auto" with
 * shards), grace period in seconds (0: no limit) and progress mode. */
void runctl_init(runctl *r, const char *resume, const char *shard_spec, size_t shards,
                 double grace_s, progress_mode mode);
/* After the users are selected: shard them, hash settings (taken over), and
 * for --resume check run.json, cut torn tails and load what is done. *out is
 * set to the resume folder (an --out naming another folder is an error). */
int runctl_prepare(runctl *r, dataset *d, cJSON *settings, const char **out, pe_err *e);
/* Draw the progress line from now on (the loading phase), log lines every
 * log_s seconds (0: the default). */
void runctl_progress_start(runctl *r, double log_s);
/* Fill the runner options this module owns (skip set, progress, grace). */
void runctl_runner_opts(runctl *r, runner_opts *ro);
/* After the run folder is written: the progress line's last state. */
void runctl_finish(runctl *r, int incomplete);
/* run.json members, each written as `  "key": value,\n`: config, config_hash, shard,
 * users_total, users, user_positions, resumes. */
void runctl_run_json(const runctl *r, buf *b);
void runctl_free(runctl *r);

#endif
