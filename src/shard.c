#include "shard.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A whole decimal number, nothing else; 0 on success. */
static int parse_index(const char *s, size_t *out)
{
    char *end;
    unsigned long long v;
    if (!s || !*s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end || v > (unsigned long long)SIZE_MAX / 2)
        return -1;
    *out = (size_t)v;
    return 0;
}

int shard_parse(const char *spec, shard *s, pe_err *e)
{
    const char *slash = strchr(spec, '/');
    char *left;
    size_t i, n;
    int bad;

    if (!slash)
        return pe_errf(e, PE_EXIT_USAGE, "--shard: \"%s\" is not INDEX/COUNT (like 0/4) or auto",
                       spec);
    left = xstrndup(spec, (size_t)(slash - spec));
    bad = parse_index(left, &i) || parse_index(slash + 1, &n);
    free(left);
    if (bad)
        return pe_errf(e, PE_EXIT_USAGE, "--shard: \"%s\" is not INDEX/COUNT (like 0/4) or auto",
                       spec);
    if (n < 1)
        return pe_errf(e, PE_EXIT_USAGE, "--shard: the shard count must be at least 1");
    if (i >= n)
        return pe_errf(e, PE_EXIT_USAGE,
                       "--shard: index %zu is out of range for %zu shards (0 to %zu)", i, n,
                       n - 1);
    s->index = i;
    s->count = n;
    return 0;
}

int shard_from_env(size_t count, shard *s, pe_err *e)
{
    const char *slurm = getenv("SLURM_ARRAY_TASK_ID"), *k8s = getenv("JOB_COMPLETION_INDEX");
    const char *var = slurm ? "SLURM_ARRAY_TASK_ID" : "JOB_COMPLETION_INDEX";
    const char *val = slurm ? slurm : k8s;
    size_t i, min = 0;

    if (count < 1)
        return pe_errf(e, PE_EXIT_USAGE, "--shard auto needs --shards N (N >= 1)");
    if (!val)
        return pe_errf(e, PE_EXIT_USAGE,
                       "--shard auto: neither SLURM_ARRAY_TASK_ID nor JOB_COMPLETION_INDEX is "
                       "set (run it as a Slurm job array or a Kubernetes Indexed Job, or give "
                       "--shard INDEX/COUNT)");
    if (parse_index(val, &i))
        return pe_errf(e, PE_EXIT_USAGE, "--shard auto: %s=\"%s\" is not a whole number", var,
                       val);
    if (slurm && getenv("SLURM_ARRAY_TASK_MIN")) {
        const char *m = getenv("SLURM_ARRAY_TASK_MIN");
        if (parse_index(m, &min))
            return pe_errf(e, PE_EXIT_USAGE,
                           "--shard auto: SLURM_ARRAY_TASK_MIN=\"%s\" is not a whole number", m);
        if (i < min)
            return pe_errf(e, PE_EXIT_USAGE,
                           "--shard auto: SLURM_ARRAY_TASK_ID=%zu is below "
                           "SLURM_ARRAY_TASK_MIN=%zu", i, min);
        i -= min;
    }
    if (i >= count)
        return pe_errf(e, PE_EXIT_USAGE,
                       "--shard auto: index %zu (from %s%s) is out of range for --shards %zu "
                       "(0 to %zu)", i, var, min ? " - SLURM_ARRAY_TASK_MIN" : "", count,
                       count - 1);
    s->index = i;
    s->count = count;
    return 0;
}

size_t shard_of(const char *user, size_t count)
{
    return count ? (size_t)(pe_hash64(user, strlen(user), 0) % count) : 0;
}

int shard_split(dataset *d, const shard *s, dataset *rest, size_t **pos)
{
    size_t k = 0, r = 0, n = d->nusers;
    ds_user *mine = xcalloc(n ? n : 1, sizeof *mine), *other = xcalloc(n ? n : 1, sizeof *other);

    memset(rest, 0, sizeof *rest);
    *pos = xcalloc(n ? n : 1, sizeof **pos);
    for (size_t i = 0; i < n; i++) {
        if (s->count == 0 || shard_of(d->users[i].id, s->count) == s->index) {
            (*pos)[k] = i;
            mine[k++] = d->users[i];
        } else {
            other[r++] = d->users[i];
        }
    }
    free(d->users);
    d->users = mine;
    d->nusers = k;
    rest->task = d->task;
    rest->users = other;
    rest->nusers = r;
    return 0;
}
