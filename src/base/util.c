#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int pe_errf(pe_err *e, int code, const char *fmt, ...)
{
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
        e->code = code;
    }
    return code;
}

void pe_err_prefix(pe_err *e, const char *fmt, ...)
{
    char pre[512], old[sizeof e->msg];
    va_list ap;

    if (!e)
        return;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof old);
    {
        size_t n = strlen(pre);
        if (n >= sizeof e->msg)
            n = sizeof e->msg - 1;
        memcpy(e->msg, pre, n);
        memcpy(e->msg + n, old, sizeof e->msg - n - 1);
        e->msg[sizeof e->msg - 1] = '\0';
    }
}

static void oom(size_t n)
{
    fprintf(stderr, "persona-eval: out of memory allocating %zu bytes\n", n);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom(n * size);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

void *xgrow(void *p, size_t *cap, size_t need, size_t size)
{
    size_t c = *cap;
    if (need <= c)
        return p;
    if (c < 8)
        c = 8;
    while (c < need) {
        if (c > SIZE_MAX / 2 / size)
            oom(SIZE_MAX);
        c *= 2;
    }
    *cap = c;
    return xrealloc(p, c * size);
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap, aq;
    int n;
    char *p;

    va_start(ap, fmt);
    va_copy(aq, ap);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        oom(0);
    p = xmalloc((size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, aq);
    va_end(aq);
    return p;
}

int pe_read_file(const char *path, size_t max, char **data, size_t *len, pe_err *e)
{
    FILE *f = fopen(path, "rb");
    char *p = NULL;
    size_t n = 0, cap = 0;

    *data = NULL;
    *len = 0;
    if (!f)
        return pe_errf(e, errno == ENOENT || errno == EACCES ? PE_EXIT_NOINPUT : PE_EXIT_IO,
                       "%s: cannot open: %s", path, strerror(errno));
    for (;;) {
        size_t got;
        p = xgrow(p, &cap, n + 65536 + 1, 1);
        got = fread(p + n, 1, cap - n - 1, f);
        n += got;
        if (max && n > max) {
            fclose(f);
            free(p);
            return pe_errf(e, PE_EXIT_DATA, "%s: file is larger than the limit of %zu bytes",
                           path, max);
        }
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        int err = errno;
        fclose(f);
        free(p);
        return pe_errf(e, PE_EXIT_IO, "%s: read error: %s", path, strerror(err));
    }
    fclose(f);
    p[n] = '\0';
    *data = p;
    *len = n;
    return 0;
}

int pe_write_atomic(const char *path, const void *data, size_t len, pe_err *e)
{
    /* unique per process and call, so threads and processes never share a temp file */
    static atomic_ulong seq;
    char *tmp = xasprintf("%s.tmp.%ld.%lu", path, (long)getpid(),
                          (unsigned long)atomic_fetch_add(&seq, 1));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const char *p = data;
    size_t left = len;

    if (fd < 0) {
        int err = errno;
        free(tmp);
        return pe_errf(e, PE_EXIT_IO, "%s: cannot create: %s", path, strerror(err));
    }
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int err = errno;
            close(fd);
            unlink(tmp);
            free(tmp);
            return pe_errf(e, PE_EXIT_IO, "%s: write error: %s", path, strerror(err));
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        int err = errno;
        unlink(tmp);
        free(tmp);
        return pe_errf(e, PE_EXIT_IO, "%s: write error: %s", path, strerror(err));
    }
    if (rename(tmp, path) != 0) {
        int err = errno;
        unlink(tmp);
        free(tmp);
        return pe_errf(e, PE_EXIT_IO, "%s: cannot rename into place: %s", path, strerror(err));
    }
    free(tmp);
    return 0;
}

int pe_write_atomic_in(const char *dir, const char *name, const void *data, size_t len,
                       pe_err *e)
{
    char *p = xasprintf("%s/%s", dir, name);
    int rc = pe_write_atomic(p, data, len, e);
    free(p);
    return rc;
}

int pe_mkdirs(const char *path, pe_err *e)
{
    char *p = xstrdup(path);
    size_t n = strlen(p);

    for (size_t i = 1; i <= n; i++) {
        if (p[i] == '/' || p[i] == '\0') {
            char c = p[i];
            p[i] = '\0';
            if (mkdir(p, 0755) != 0 && errno != EEXIST) {
                int err = errno;
                pe_errf(e, PE_EXIT_IO, "%s: cannot create directory: %s", p, strerror(err));
                free(p);
                return PE_EXIT_IO;
            }
            p[i] = c;
        }
    }
    free(p);
    return 0;
}

int pe_file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* SHA-256 (FIPS 180-4). */
static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(sha256_ctx *c, const uint8_t *p)
{
    uint32_t w[64], a, b, cc, d, e, f, g, h;
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    a = c->h[0], b = c->h[1], cc = c->h[2], d = c->h[3];
    e = c->h[4], f = c->h[5], g = c->h[6], h = c->h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) +
                      K256[i] + w[i];
        uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & cc) ^ (b & cc));
        h = g, g = f, f = e, e = d + t1, d = cc, cc = b, b = a, a = t1 + t2;
    }
    c->h[0] += a, c->h[1] += b, c->h[2] += cc, c->h[3] += d;
    c->h[4] += e, c->h[5] += f, c->h[6] += g, c->h[7] += h;
}

void sha256_init(sha256_ctx *c)
{
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(c->h, iv, sizeof iv);
    c->nbytes = 0;
    c->used = 0;
}

void sha256_update(sha256_ctx *c, const void *data, size_t len)
{
    const uint8_t *p = data;
    c->nbytes += len;
    if (c->used) {
        size_t take = 64 - c->used < len ? 64 - c->used : len;
        memcpy(c->block + c->used, p, take);
        c->used += take, p += take, len -= take;
        if (c->used < 64)
            return;
        sha256_block(c, c->block);
        c->used = 0;
    }
    for (; len >= 64; p += 64, len -= 64)
        sha256_block(c, p);
    memcpy(c->block, p, len);
    c->used = len;
}

void sha256_final(sha256_ctx *c, uint8_t out[32])
{
    uint64_t bits = c->nbytes * 8;
    uint8_t pad = 0x80, zero = 0, len[8];
    sha256_update(c, &pad, 1);
    while (c->used != 56)
        sha256_update(c, &zero, 1);
    for (int i = 0; i < 8; i++)
        len[i] = (uint8_t)(bits >> (56 - 8 * i));
    sha256_update(c, len, 8);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(c->h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
        out[4 * i + 3] = (uint8_t)c->h[i];
    }
}

void pe_hex(const uint8_t *bytes, size_t n, char *out)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[bytes[i] >> 4];
        out[2 * i + 1] = hx[bytes[i] & 15];
    }
    out[2 * n] = '\0';
}

void sha256_hex(const void *data, size_t len, char out[65])
{
    sha256_ctx c;
    uint8_t d[32];
    sha256_init(&c);
    sha256_update(&c, data, len);
    sha256_final(&c, d);
    pe_hex(d, 32, out);
}

int pe_sha256_file(const char *path, char out[65], pe_err *e)
{
    FILE *f = fopen(path, "rb");
    sha256_ctx c;
    uint8_t blk[65536], d[32];
    size_t n;

    if (!f)
        return pe_errf(e, PE_EXIT_NOINPUT, "%s: cannot open: %s", path, strerror(errno));
    sha256_init(&c);
    while ((n = fread(blk, 1, sizeof blk, f)) > 0)
        sha256_update(&c, blk, n);
    if (ferror(f)) {
        fclose(f);
        return pe_errf(e, PE_EXIT_IO, "%s: read error", path);
    }
    fclose(f);
    sha256_final(&c, d);
    pe_hex(d, 32, out);
    return 0;
}

uint64_t pe_hash64(const void *data, size_t len, uint64_t seed)
{
    const uint8_t *p = data;
    uint64_t h = 0xcbf29ce484222325ULL ^ seed;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    /* final avalanche so low bits are usable as bucket indices */
    return pe_mix64(h);
}

uint64_t pe_mix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

int pe_utf8_valid(const char *s, size_t len, size_t *bad_offset)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned c = p[i];
        size_t n;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            n = 1, cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2, cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3, cp = c & 0x07;
        } else {
            goto bad;
        }
        for (size_t k = 1; k <= n; k++) {
            if (i + k >= len || (p[i + k] & 0xc0) != 0x80)
                goto bad;
            cp = cp << 6 | (p[i + k] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            goto bad;
        i += n + 1;
    }
    return 1;
bad:
    if (bad_offset)
        *bad_offset = i;
    return 0;
}

double pe_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void pe_utc_iso(char *buf, size_t n)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void pe_utc_compact(char *buf, size_t n)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y%m%dT%H%M%SZ", &tm);
}

void pe_fmt_double(char *buf, size_t n, double v)
{
    if (isnan(v)) {
        snprintf(buf, n, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, n, v > 0 ? "Infinity" : "-Infinity");
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    /* Python prints integral floats as "1.0"; keep that so values read as floats. */
    if (!strpbrk(buf, ".eEn")) {
        size_t l = strlen(buf);
        if (l + 3 <= n)
            memcpy(buf + l, ".0", 3);
    }
}

/* Length of the Python whitespace character (str.isspace) at p, or 0. */
static size_t ws_len(const unsigned char *p, size_t avail)
{
    if (avail >= 1 && ((*p >= 0x09 && *p <= 0x0d) || (*p >= 0x1c && *p <= 0x20)))
        return 1;
    if (avail >= 2 && p[0] == 0xc2 && (p[1] == 0x85 || p[1] == 0xa0))
        return 2; /* U+0085, U+00A0 */
    if (avail < 3)
        return 0;
    if ((p[0] == 0xe1 && p[1] == 0x9a && p[2] == 0x80) ||  /* U+1680 */
        (p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80))    /* U+3000 */
        return 3;
    if (p[0] == 0xe2 && p[1] == 0x80 &&
        ((p[2] >= 0x80 && p[2] <= 0x8a) || p[2] == 0xa8 || p[2] == 0xa9 || p[2] == 0xaf))
        return 3; /* U+2000..U+200A, U+2028, U+2029, U+202F */
    if (p[0] == 0xe2 && p[1] == 0x81 && p[2] == 0x9f)
        return 3; /* U+205F */
    return 0;
}

const char *pe_strip_span(const char *s, size_t *len)
{
    const unsigned char *a = (const unsigned char *)s, *b = a + strlen(s);
    size_t k;
    while (a < b && (k = ws_len(a, (size_t)(b - a))) > 0)
        a += k;
    for (;;) {
        size_t w = 0;
        for (k = 1; k <= 3 && !w; k++)
            if ((size_t)(b - a) >= k && ws_len(b - k, k) == k)
                w = k;
        if (!w)
            break;
        b -= w;
    }
    *len = (size_t)(b - a);
    return (const char *)a;
}

char *pe_strip(const char *s)
{
    size_t len;
    const char *p = pe_strip_span(s, &len);
    return xstrndup(p, len);
}

const char *pe_strcasestr(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0)
        return hay;
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return hay;
    return NULL;
}

int pe_streq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

int pe_parse_pyfloat(const char *s, double *out)
{
    char *t = pe_strip(s), *clean, *end;
    size_t n = strlen(t), k = 0;
    const char *w;
    int neg = 0, ok = 0;

    clean = xmalloc(n + 1);
    /* '_' is allowed only between two digits. */
    for (size_t i = 0; i < n; i++) {
        if (t[i] == '_') {
            if (i == 0 || i + 1 >= n || !isdigit((unsigned char)t[i - 1]) ||
                !isdigit((unsigned char)t[i + 1]))
                goto done;
            continue;
        }
        clean[k++] = t[i];
    }
    clean[k] = '\0';
    if (k == 0)
        goto done;
    w = clean;
    if (*w == '+' || *w == '-')
        neg = *w++ == '-';
    if (!strcasecmp(w, "inf") || !strcasecmp(w, "infinity")) {
        *out = neg ? -INFINITY : INFINITY;
        ok = 1;
        goto done;
    }
    if (!strcasecmp(w, "nan")) {
        *out = NAN;
        ok = 1;
        goto done;
    }
    /* Python rejects hex floats and C's other extensions: digits, one '.', exponent only. */
    {
        const char *q = w;
        int digits = 0;
        while (isdigit((unsigned char)*q))
            q++, digits++;
        if (*q == '.') {
            q++;
            while (isdigit((unsigned char)*q))
                q++, digits++;
        }
        if (!digits)
            goto done;
        if (*q == 'e' || *q == 'E') {
            q++;
            if (*q == '+' || *q == '-')
                q++;
            if (!isdigit((unsigned char)*q))
                goto done;
            while (isdigit((unsigned char)*q))
                q++;
        }
        if (*q)
            goto done;
    }
    errno = 0;
    *out = strtod(clean, &end);
    ok = *end == '\0';
done:
    free(clean);
    free(t);
    return ok;
}

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void pe_rng_seed(pe_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t pe_rng_next(pe_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t pe_rng_below(pe_rng *r, uint64_t n)
{
    uint64_t lim, x;
    if (n <= 1)
        return 0;
    lim = UINT64_MAX - UINT64_MAX % n;
    do
        x = pe_rng_next(r);
    while (x >= lim);
    return x % n;
}

double pe_rng_unit(pe_rng *r)
{
    return (double)(pe_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}
