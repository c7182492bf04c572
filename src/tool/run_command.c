/* The command line of `run`: canonical form, resume from run.json, headers off argv. */
#include "run_command.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jsonu.h"
#include "redact.h"

void run_words_add(run_words *w, const char *s)
{
    w->v = xgrow(w->v, &w->cap, w->n + 1, sizeof *w->v);
    w->v[w->n++] = xstrdup(s);
}

void run_words_free(run_words *w)
{
    for (size_t i = 0; i < w->n; i++)
        free(w->v[i]);
    free(w->v);
    memset(w, 0, sizeof *w);
}

/* A URL with its user:password part (before "@" in the host) replaced by ***. */
static char *url_without_credentials(const char *url)
{
    const char *scheme = strstr(url, "://"), *host = scheme ? scheme + 3 : url;
    const char *end = host + strcspn(host, "/?#"), *at = memchr(host, '@', (size_t)(end - host));
    if (!at)
        return xstrdup(url);
    return xasprintf("%.*s***%s", (int)(host - url), url, at);
}

void run_command_option(run_words *cmd, const char *name, const char *value)
{
    char *opt = xasprintf("--%s", name), *v = NULL;
    run_words_add(cmd, opt);
    free(opt);
    if (!value)
        return;
    if (strcmp(name, "header") == 0 && value[0] != '@') /* @FILE: the path is no secret */
        v = xasprintf("%.*s: ***", (int)strcspn(value, ":"), value);
    else if (strcmp(name, "endpoint") == 0 || strcmp(name, "embed-endpoint") == 0 ||
             strcmp(name, "wiki") == 0)
        v = url_without_credentials(value);
    if (!v)
        v = redact(value); /* a credential-shaped value anywhere (--extra-body, ...) */
    run_words_add(cmd, v);
    free(v);
}

/* Options whose recorded values a resume never takes over, and the
 * repeatable ones a new value replaces. */
static const char *const DROPPED[] = {"--out", "--resume", "--sweep", "--header", NULL};
static const char *const REPEATED[] = {"--data", "--user", "--endpoint", NULL};
static const char *const FLAGS[] = {"--strict-answers", "--insecure", "--cache-shared",
                                    "--offline", "--online", "--quiet", "--verbose", NULL};

static int in(const char *const *list, const char *s)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(list[i], s) == 0)
            return 1;
    return 0;
}

/* 1 when the new command line gives option name (full or "--name=..."). */
static int given(int argc, char **argv, const char *name)
{
    size_t l = strlen(name);
    for (int i = 1; i < argc; i++)
        if (strncmp(argv[i], name, l) == 0 && (argv[i][l] == '\0' || argv[i][l] == '='))
            return 1;
    return 0;
}

int run_command_resume(const char *dir, int argc, char **argv, run_words *out, pe_err *e)
{
    char *path = xasprintf("%s/run.json", dir), *text = NULL;
    size_t len = 0;
    cJSON *run = NULL;
    const cJSON *cmd, *w;
    int rc, skip = 0;

    if (!pe_file_exists(path)) {
        char *lock = xasprintf("%s/.lock", dir);
        int empty = pe_file_exists(lock); /* a run killed before its first write */
        free(lock);
        free(path);
        if (!empty)
            return pe_errf(e, PE_EXIT_NOINPUT, "--resume %s: no run.json there (not a run "
                                               "folder)", dir);
        for (int i = 0; i < argc; i++) /* nothing recorded: the command line as given */
            run_words_add(out, argv[i]);
        return 0;
    }
    rc = pe_read_file(path, 64u << 20, &text, &len, e);

    if (!rc && !(run = jsonu_parse(text, len, NULL)))
        rc = pe_errf(e, PE_EXIT_DATA, "%s: not valid JSON", path);
    free(text);
    cmd = run ? cJSON_GetObjectItemCaseSensitive(run, "command") : NULL;
    if (!rc && !cJSON_IsArray(cmd))
        rc = pe_errf(e, PE_EXIT_DATA, "%s has no recorded \"command\"", path);
    free(path);
    if (rc) {
        cJSON_Delete(run);
        return rc;
    }
    run_words_add(out, argv[0]);
    /* the recorded words after the program and subcommand names */
    cJSON_ArrayForEach(w, cmd) {
        const char *s = cJSON_IsString(w) ? w->valuestring : "";
        if (skip) {
            skip = 0;
            continue;
        }
        if (strncmp(s, "--", 2) != 0)
            continue;
        {
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)strcspn(s, "="), s);
            if (in(DROPPED, name) || (in(REPEATED, name) && given(argc, argv, name))) {
                skip = !in(FLAGS, name) && !strchr(s, '=');
                continue;
            }
        }
        {
            const char *v = strchr(s, '=') ? strchr(s, '=') + 1 : NULL;
            if (!v && !in(FLAGS, s) && w->next) {
                w = w->next;
                v = cJSON_IsString(w) ? w->valuestring : "";
            }
            if (v && strstr(v, REDACT_MARK)) {
                /* a secret was left out of the record: using the rest would
                 * send "***" where the secret was */
                rc = pe_errf(e, PE_EXIT_USAGE, "--resume %s: run.json records %.*s without "
                             "its secret part (\"%s\"), which is never written to disk; "
                             "give %.*s again", dir, (int)strcspn(s, "="), s, v,
                             (int)strcspn(s, "="), s);
                break;
            }
            run_words_add(out, s);
            if (v && !strchr(s, '='))
                run_words_add(out, v);
        }
    }
    if (rc) {
        cJSON_Delete(run);
        return rc;
    }
    for (int i = 1; i < argc; i++)
        run_words_add(out, argv[i]);
    cJSON_Delete(run);
    return 0;
}

static void add_lines(const char *text, run_words *out)
{
    for (const char *p = text; *p;) {
        size_t l = strcspn(p, "\r\n");
        if (l) {
            char *line = xasprintf("%.*s", (int)l, p);
            run_words_add(out, line);
            free(line);
        }
        p += l;
        while (*p == '\r' || *p == '\n')
            p++;
    }
}

int run_command_env_headers(run_words *out, pe_err *e)
{
    const char *v = getenv("PERSONA_EVAL_HEADERS");
    size_t before = out->n;
    if (!v)
        return 0;
    add_lines(v, out);
    for (size_t i = before; i < out->n; i++)
        if (!strchr(out->v[i], ':'))
            return pe_errf(e, PE_EXIT_USAGE, "PERSONA_EVAL_HEADERS: line %zu is not "
                                             "\"Name: value\"", i - before + 1);
    return 0;
}

int run_command_file_headers(const char *path, run_words *out, pe_err *e)
{
    char *text = NULL;
    size_t len = 0, before = out->n;
    int rc = pe_read_file(path, 1u << 20, &text, &len, e);
    if (rc)
        return rc;
    add_lines(text, out);
    free(text);
    for (size_t i = before; i < out->n; i++)
        if (!strchr(out->v[i], ':'))
            return pe_errf(e, PE_EXIT_USAGE, "--header @%s: line %zu is not \"Name: value\"",
                           path, i - before + 1);
    return 0;
}
