#include "prompts.h"

#include <dirent.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "prompts_data.h"

typedef struct prompt {
    const char *name;
    char *text;
    char *source; /* NULL: built in */
    char sha256[65];
    atomic_int used;
} prompt;

struct prompt_set {
    prompt *v;
    size_t n;
};

static prompt *find(const prompt_set *p, const char *name)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->v[i].name, name) == 0)
            return &p->v[i];
    return NULL;
}

int prompts_load(const char *dir, prompt_set **out, pe_err *e)
{
    prompt_set *p = xcalloc(1, sizeof *p);
    int rc = 0;

    *out = NULL;
    p->n = prompt_nfiles;
    p->v = xcalloc(p->n ? p->n : 1, sizeof *p->v);
    for (size_t i = 0; i < p->n; i++) {
        p->v[i].name = prompt_files[i].name;
        p->v[i].text = xstrdup(prompt_files[i].text);
    }
    if (dir) {
        DIR *d = opendir(dir);
        struct dirent *de;
        if (!d) {
            prompts_free(p);
            return pe_errf(e, PE_EXIT_NOINPUT, "%s: cannot open the prompts folder", dir);
        }
        while (!rc && (de = readdir(d)) != NULL) {
            size_t l = strlen(de->d_name);
            char *name, *path, *text;
            size_t len, bad;
            prompt *pr;
            if (l <= 4 || strcmp(de->d_name + l - 4, ".txt") != 0)
                continue;
            name = xstrndup(de->d_name, l - 4);
            path = xasprintf("%s/%s", dir, de->d_name);
            pr = find(p, name);
            if (!pr) {
                rc = pe_errf(e, PE_EXIT_USAGE, "%s: no prompt template is called \"%s\"", path,
                             name);
            } else if (!(rc = pe_read_file(path, 1 << 20, &text, &len, e))) {
                if (!pe_utf8_valid(text, len, &bad)) {
                    rc = pe_errf(e, PE_EXIT_DATA, "%s: invalid UTF-8 at byte %zu", path, bad);
                    free(text);
                } else {
                    free(pr->text);
                    pr->text = text;
                    pr->source = path;
                    path = NULL;
                }
            }
            free(path);
            free(name);
        }
        closedir(d);
    }
    for (size_t i = 0; i < p->n; i++)
        sha256_hex(p->v[i].text, strlen(p->v[i].text), p->v[i].sha256);
    if (rc) {
        prompts_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

void prompts_free(prompt_set *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        free(p->v[i].text);
        free(p->v[i].source);
    }
    free(p->v);
    free(p);
}

const char *prompts_get(const prompt_set *p, const char *name)
{
    const prompt *pr = find(p, name);
    return pr ? pr->text : NULL;
}

char *prompts_render(const prompt_set *p, const char *name, const char *const *kv, pe_err *e)
{
    prompt *pr = find(p, name);
    buf b = BUF_INIT;
    const char *s;

    if (!pr) {
        pe_errf(e, PE_EXIT_INTERNAL, "no prompt template \"%s\"", name);
        return NULL;
    }
    atomic_store(&pr->used, 1);
    s = pr->text;
    for (;;) {
        const char *open = strstr(s, "{{"), *close;
        const char *val = NULL;
        if (!open || !(close = strstr(open + 2, "}}"))) {
            buf_adds(&b, s);
            break;
        }
        buf_add(&b, s, (size_t)(open - s));
        for (size_t i = 0; kv && kv[i]; i += 2)
            if (strlen(kv[i]) == (size_t)(close - open - 2) &&
                memcmp(kv[i], open + 2, (size_t)(close - open - 2)) == 0)
                val = kv[i + 1];
        if (!val) {
            pe_errf(e, PE_EXIT_DATA, "prompt template \"%s\"%s%s: unknown placeholder %.*s",
                    name, pr->source ? " from " : "", pr->source ? pr->source : "",
                    (int)(close + 2 - open), open);
            buf_free(&b);
            return NULL;
        }
        buf_adds(&b, val);
        s = close + 2;
    }
    return buf_detach(&b);
}

void prompts_used_json(const prompt_set *p, buf *b)
{
    int first = 1;
    buf_addc(b, '{');
    for (size_t i = 0; i < p->n; i++) {
        if (!atomic_load(&p->v[i].used))
            continue;
        if (!first)
            buf_adds(b, ", ");
        first = 0;
        buf_json_str(b, p->v[i].name);
        buf_printf(b, ": {\"sha256\": \"%s\", \"source\": ", p->v[i].sha256);
        buf_json_str(b, p->v[i].source ? p->v[i].source : "built-in");
        buf_addc(b, '}');
    }
    buf_addc(b, '}');
}

void prompts_digest(const prompt_set *p, char out[65])
{
    sha256_ctx c;
    uint8_t d[32];
    sha256_init(&c);
    for (size_t i = 0; i < p->n; i++) {
        sha256_update(&c, p->v[i].name, strlen(p->v[i].name) + 1);
        sha256_update(&c, p->v[i].text, strlen(p->v[i].text) + 1);
    }
    sha256_final(&c, d);
    pe_hex(d, 32, out);
}
