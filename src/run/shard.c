#include "shard.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

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

/* Append "a, b, c" (at most 10 items, then "and N more"). */
static void list_add(buf *b, size_t *n, const char *item)
{
    if (*n < 10)
        buf_printf(b, "%s%s", *n ? ", " : "", item);
    else if (*n == 10)
        buf_adds(b, ", ...");
    (*n)++;
}

int shard_check_cover(const shard_part *p, size_t n, pe_err *e)
{
    size_t count, total;
    unsigned char *seen_shard;
    const char **owner;
    buf missing = BUF_INIT, dup = BUF_INIT;
    size_t nmissing = 0, ndup = 0;
    int rc = 0;
    char t[64];

    if (n == 0)
        return pe_errf(e, PE_EXIT_USAGE, "merge: no run directories given");
    count = p[0].count;
    total = p[0].users_total;
    for (size_t i = 1; i < n; i++)
        if (p[i].count != count || p[i].users_total != total)
            return pe_errf(e, PE_EXIT_USAGE,
                           "merge: %s is shard %zu/%zu of %zu users but %s is shard %zu/%zu of "
                           "%zu users: not one split",
                           p[0].dir, p[0].index, count, total, p[i].dir, p[i].index, p[i].count,
                           p[i].users_total);
    seen_shard = xcalloc(count ? count : 1, 1);
    for (size_t i = 0; i < n; i++) {
        if (p[i].index >= count) {
            free(seen_shard);
            return pe_errf(e, PE_EXIT_USAGE, "merge: %s: shard index %zu out of range for %zu",
                           p[i].dir, p[i].index, count);
        }
        if (seen_shard[p[i].index]++) {
            snprintf(t, sizeof t, "%zu", p[i].index);
            list_add(&dup, &ndup, t);
        }
    }
    for (size_t i = 0; i < count; i++)
        if (!seen_shard[i]) {
            snprintf(t, sizeof t, "%zu", i);
            list_add(&missing, &nmissing, t);
        }
    free(seen_shard);
    if (nmissing || ndup) {
        rc = pe_errf(e, PE_EXIT_USAGE, "merge: %s%s%s%s%s%s (of %zu shards)",
                     nmissing ? "missing shard" : "", nmissing > 1 ? "s " : nmissing ? " " : "",
                     buf_str(&missing), nmissing && ndup ? "; " : "",
                     ndup ? (ndup > 1 ? "duplicated shards " : "duplicated shard ") : "",
                     buf_str(&dup), count);
        buf_free(&missing);
        buf_free(&dup);
        return rc;
    }
    /* users: every position once, each in its own shard */
    owner = xcalloc(total ? total : 1, sizeof *owner);
    for (size_t i = 0; i < n && !rc; i++)
        for (size_t u = 0; u < p[i].nusers; u++) {
            size_t at = p[i].positions[u];
            size_t want = shard_of(p[i].users[u], count);
            if (at >= total || want != p[i].index) {
                rc = pe_errf(e, PE_EXIT_USAGE,
                             "merge: %s: user \"%s\" does not belong in shard %zu/%zu", p[i].dir,
                             p[i].users[u], p[i].index, count);
                break;
            }
            if (owner[at])
                list_add(&dup, &ndup, p[i].users[u]);
            owner[at] = p[i].users[u];
        }
    for (size_t i = 0; i < total && !rc; i++)
        if (!owner[i]) {
            snprintf(t, sizeof t, "#%zu", i);
            list_add(&missing, &nmissing, t);
        }
    if (!rc && (nmissing || ndup))
        rc = pe_errf(e, PE_EXIT_USAGE,
                     "merge: the shards do not hold every user once: %zu missing%s%s%s, "
                     "%zu duplicated%s%s",
                     nmissing, nmissing ? " (positions " : "", buf_str(&missing),
                     nmissing ? ")" : "", ndup, ndup ? ": " : "", buf_str(&dup));
    free(owner);
    buf_free(&missing);
    buf_free(&dup);
    return rc;
}
