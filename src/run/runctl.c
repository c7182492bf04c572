#include "runctl.h"

#include <stdlib.h>
#include <string.h>

#include "jsonu.h"
#include "settings.h"

void runctl_init(runctl *r, const char *resume, const char *shard_spec, size_t shards,
                 double grace_s, progress_mode mode)
{
    memset(r, 0, sizeof *r);
    r->resume = resume;
    r->shard_spec = shard_spec;
    r->shards = shards;
    r->grace_s = grace_s > 0 ? grace_s : 1e-9; /* 0 means "no limit" to the runner */
    r->progress = mode;
}

static int resolve_shard(runctl *r, pe_err *e)
{
    r->sh.index = r->sh.count = 0;
    if (!r->shard_spec) {
        if (r->shards)
            return pe_errf(e, PE_EXIT_USAGE, "--shards N goes with --shard auto");
        return 0;
    }
    if (strcmp(r->shard_spec, "auto") == 0)
        return shard_from_env(r->shards, &r->sh, e);
    if (r->shards)
        return pe_errf(e, PE_EXIT_USAGE, "--shards N goes with --shard auto, not --shard %s",
                       r->shard_spec);
    return shard_parse(r->shard_spec, &r->sh, e);
}

/* The recorded shard must be this one: otherwise other users would be run. */
static int check_shard(const runctl *r, const cJSON *run, pe_err *e)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(run, "shard");
    size_t ri = 0, rn = 0;
    if (cJSON_IsObject(s)) {
        const cJSON *i = cJSON_GetObjectItemCaseSensitive(s, "index");
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(s, "count");
        if (cJSON_IsNumber(i) && cJSON_IsNumber(n)) {
            ri = (size_t)i->valuedouble;
            rn = (size_t)n->valuedouble;
        }
    }
    if (ri != r->sh.index || rn != r->sh.count)
        return pe_errf(e, PE_EXIT_USAGE,
                       "--resume: the command line does not match %s/run.json in 1 setting: "
                       "shard (recorded %zu/%zu, now %zu/%zu; 0/0: not sharded)",
                       r->resume, ri, rn, r->sh.index, r->sh.count);
    return 0;
}

static int prepare_resume(runctl *r, pe_err *e)
{
    cJSON *run = NULL;
    pred_record *recs = NULL;
    size_t n = 0;
    const cJSON *x;
    char *pp;
    int rc = resume_read_run(r->resume, &run, e);

    if (!rc)
        rc = resume_check_config(r->resume, run, r->settings, e);
    if (!rc)
        rc = check_shard(r, run, e);
    if (!rc && cJSON_IsNumber(x = cJSON_GetObjectItemCaseSensitive(run, "resumes")))
        r->resumes = (long)x->valuedouble;
    r->resumes++;
    cJSON_Delete(run);
    if (rc)
        return rc;
    if ((rc = resume_repair_dir(r->resume, &r->cut, e)))
        return rc;
    pp = xasprintf("%s/predictions.jsonl", r->resume);
    if (pe_file_exists(pp))
        rc = report_load_predictions(r->resume, &recs, &n, NULL, e);
    free(pp);
    if (rc)
        return rc;
    r->done = resume_set_new(recs, n);
    report_free_predictions(recs, n);
    return 0;
}

int runctl_prepare(runctl *r, dataset *d, cJSON *settings, const char **out, pe_err *e)
{
    int rc;

    r->settings = settings;
    settings_hash(settings, r->hash);
    if ((rc = resolve_shard(r, e)))
        return rc;
    r->users_total = d->nusers;
    shard_split(d, &r->sh, &r->rest, &r->positions);
    r->data = d;
    if (!r->resume)
        return 0;
    if (*out && strcmp(*out, r->resume) != 0)
        return pe_errf(e, PE_EXIT_USAGE, "--out %s and --resume %s name different folders",
                       *out, r->resume);
    *out = r->resume;
    return prepare_resume(r, e);
}

void runctl_progress_start(runctl *r, double log_s)
{
    r->prog = progress_new(r->progress, stderr);
    if (log_s > 0)
        progress_set_intervals(r->prog, 0.25, log_s);
    progress_start(r->prog);
}

void runctl_runner_opts(runctl *r, runner_opts *ro)
{
    if (r->done) {
        ro->is_done = resume_is_done;
        ro->done_ctx = r->done;
    }
    ro->grace_s = r->grace_s;
    ro->progress = r->prog ? progress_update : NULL;
    ro->progress_ctx = r->prog;
}

void runctl_finish(runctl *r, int incomplete)
{
    progress_finish(r->prog, incomplete);
}

void runctl_run_json(const runctl *r, buf *b)
{
    char *cfg;
    if (!r->settings)
        return;
    cfg = settings_canonical(r->settings);
    buf_adds(b, "  \"config\": ");
    buf_adds(b, cfg);
    free(cfg);
    buf_printf(b, ",\n  \"config_hash\": \"%s\",\n", r->hash);
    if (r->sh.count)
        buf_printf(b, "  \"shard\": {\"index\": %zu, \"count\": %zu},\n", r->sh.index,
                   r->sh.count);
    else
        buf_adds(b, "  \"shard\": null,\n");
    buf_printf(b, "  \"users_total\": %zu,\n  \"users\": [", r->users_total);
    for (size_t i = 0; r->data && i < r->data->nusers; i++) {
        if (i)
            buf_adds(b, ", ");
        buf_json_str(b, r->data->users[i].id);
    }
    buf_adds(b, "],\n  \"user_positions\": [");
    for (size_t i = 0; r->data && i < r->data->nusers; i++)
        buf_printf(b, "%s%zu", i ? ", " : "", r->positions[i]);
    buf_printf(b, "],\n  \"resumes\": %ld,\n", r->resumes);
}

void runctl_free(runctl *r)
{
    cJSON_Delete(r->settings);
    free(r->positions);
    dataset_free(&r->rest);
    resume_set_free(r->done);
    progress_free(r->prog);
    memset(r, 0, sizeof *r);
}
