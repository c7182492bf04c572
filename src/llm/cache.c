#include "cache.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "jsonu.h"

struct cache {
    char *dir;
    cache_mode mode;
    pthread_mutex_t mu;
    cache_stats st;
    unsigned long seq; /* temporary file names */
    long pid;
};

int cache_mode_parse(const char *s)
{
    static const char *const names[] = {"off", "rw", "ro", "offline"};
    for (int i = 0; i < 4; i++)
        if (pe_streq(s, names[i]))
            return i;
    return -1;
}

char *cache_default_dir(void)
{
    const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (x && *x)
        return xasprintf("%s/persona-eval", x);
    return xasprintf("%s/.cache/persona-eval", home && *home ? home : ".");
}

cache *cache_open(const char *dir, cache_mode mode, pe_err *e)
{
    cache *c = xcalloc(1, sizeof *c);
    c->dir = dir ? xstrdup(dir) : cache_default_dir();
    c->mode = mode;
    c->pid = (long)getpid();
    pthread_mutex_init(&c->mu, NULL);
    if (mode == CACHE_RW && pe_mkdirs(c->dir, e) != 0) {
        pe_err_prefix(e, "cache: ");
        cache_close(c);
        return NULL;
    }
    if (mode == CACHE_RW && chmod(c->dir, 0700) != 0) {
        pe_errf(e, PE_EXIT_IO, "cache: %s: cannot make it private: %s", c->dir, strerror(errno));
        cache_close(c);
        return NULL;
    }
    return c;
}

void cache_close(cache *c)
{
    if (!c)
        return;
    pthread_mutex_destroy(&c->mu);
    free(c->dir);
    free(c);
}

cache_mode cache_get_mode(const cache *c)
{
    return c->mode;
}

const char *cache_dir(const cache *c)
{
    return c->dir;
}

static int cmp_items(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    return strcmp(x->string, y->string);
}

static void canon(buf *b, const cJSON *j)
{
    if (cJSON_IsObject(j)) {
        size_t n = 0, i = 0;
        const cJSON *it;
        const cJSON **items;
        cJSON_ArrayForEach(it, j) n++;
        items = xcalloc(n ? n : 1, sizeof *items);
        cJSON_ArrayForEach(it, j) items[i++] = it;
        qsort(items, n, sizeof *items, cmp_items);
        buf_addc(b, '{');
        for (i = 0; i < n; i++) {
            if (i)
                buf_addc(b, ',');
            buf_json_str(b, items[i]->string);
            buf_addc(b, ':');
            canon(b, items[i]);
        }
        buf_addc(b, '}');
        free(items);
    } else if (cJSON_IsArray(j)) {
        const cJSON *it;
        int first = 1;
        buf_addc(b, '[');
        cJSON_ArrayForEach(it, j) {
            if (!first)
                buf_addc(b, ',');
            first = 0;
            canon(b, it);
        }
        buf_addc(b, ']');
    } else {
        char *s = jsonu_print(j);
        buf_adds(b, s);
        free(s);
    }
}

char *cache_canonical(const cJSON *j)
{
    buf b = BUF_INIT;
    canon(&b, j);
    return buf_detach(&b);
}

void cache_key(const char *canonical, char hex[65])
{
    sha256_hex(canonical, strlen(canonical), hex);
}

char *cache_path(const cache *c, const char *hex)
{
    return xasprintf("%s/%.2s/%s.json", c->dir, hex, hex + 2);
}

/* The header line of an entry: magic and the SHA-256 of the content. */
#define HEADER_MAGIC "pe-cache-2 sha256="
#define HEADER_LEN (sizeof HEADER_MAGIC - 1 + 64 + 1)

/* 1 when raw (len bytes) is an entry whose checksum matches; the content is
 * then moved to the front of raw and *len cut to it. */
static int verify(char *raw, size_t *len)
{
    char hex[65];
    if (*len < HEADER_LEN || memcmp(raw, HEADER_MAGIC, sizeof HEADER_MAGIC - 1) ||
        raw[HEADER_LEN - 1] != '\n')
        return 0;
    sha256_hex(raw + HEADER_LEN, *len - HEADER_LEN, hex);
    if (memcmp(hex, raw + sizeof HEADER_MAGIC - 1, 64))
        return 0;
    *len -= HEADER_LEN;
    memmove(raw, raw + HEADER_LEN, *len);
    raw[*len] = '\0';
    return 1;
}

int cache_get(cache *c, const char *hex, char **data, size_t *len)
{
    char *path;
    int hit = 0, corrupt = 0;

    *data = NULL;
    *len = 0;
    if (c->mode == CACHE_OFF)
        return 0;
    path = cache_path(c, hex);
    hit = pe_read_file(path, 0, data, len, NULL) == 0 && *len > 0;
    if (hit && !verify(*data, len))
        hit = 0, corrupt = 1;
    if (!hit) {
        free(*data);
        *data = NULL;
        *len = 0;
    }
    free(path);
    pthread_mutex_lock(&c->mu);
    if (hit) {
        c->st.hits++;
        c->st.bytes_read += *len;
    } else {
        c->st.misses++;
        c->st.corrupt += (unsigned long)corrupt;
    }
    pthread_mutex_unlock(&c->mu);
    return hit;
}

/* Entries are not fsynced: a cache can lose its newest entries in a crash, and
 * a damaged entry fails its checksum and reads as a miss. */
static int write_entry(const char *path, const char *tmp, const char *data, size_t len)
{
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
    char head[HEADER_LEN + 1], hex[65];
    size_t left = len + HEADER_LEN, hl = 0;
    if (fd < 0)
        return -1;
    sha256_hex(data, len, hex);
    snprintf(head, sizeof head, HEADER_MAGIC "%s\n", hex);
    while (left) {
        ssize_t w;
        if (hl < HEADER_LEN) {
            w = write(fd, head + hl, HEADER_LEN - hl);
            if (w > 0)
                hl += (size_t)w;
        } else {
            w = write(fd, data, left);
            if (w > 0)
                data += w;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        left -= (size_t)w;
    }
    if (close(fd) != 0 || left || rename(tmp, path) != 0) {
        int err = errno;
        unlink(tmp);
        errno = err;
        return -1;
    }
    return 0;
}

int cache_put(cache *c, const char *hex, const char *data, size_t len, pe_err *e)
{
    char *path, *sub, *tmp;
    unsigned long seq;
    int rc = 0;

    if (c->mode != CACHE_RW)
        return 0;
    pthread_mutex_lock(&c->mu);
    seq = c->seq++;
    pthread_mutex_unlock(&c->mu);
    sub = xasprintf("%s/%.2s", c->dir, hex);
    path = cache_path(c, hex);
    tmp = xasprintf("%s.tmp.%ld.%lu", path, c->pid, seq);
    /* the shard folder is made only when the first write into it fails */
    if (write_entry(path, tmp, data, len) != 0) {
        if (errno != ENOENT)
            rc = pe_errf(e, PE_EXIT_IO, "cache: %s: cannot write: %s", path, strerror(errno));
        else if (mkdir(sub, 0700) != 0 && errno != EEXIST)
            rc = pe_errf(e, PE_EXIT_IO, "cache: %s: cannot create: %s", sub, strerror(errno));
        else if (write_entry(path, tmp, data, len) != 0)
            rc = pe_errf(e, PE_EXIT_IO, "cache: %s: cannot write: %s", path, strerror(errno));
    }
    pthread_mutex_lock(&c->mu);
    if (rc) {
        c->st.write_errors++;
    } else {
        c->st.writes++;
        c->st.bytes_written += len;
    }
    pthread_mutex_unlock(&c->mu);
    free(sub);
    free(path);
    free(tmp);
    return rc;
}

void cache_get_stats(cache *c, cache_stats *s)
{
    pthread_mutex_lock(&c->mu);
    *s = c->st;
    pthread_mutex_unlock(&c->mu);
}
