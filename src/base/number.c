#include "number.h"

#include <ctype.h>
#include <float.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alloc.h"
#include "text.h"

/* The fewest significant digits p (1..17) for which "%.{p}g" reads back as v.
 * Rounded to 15 digits, a double that some decimal of p <= 15 digits reads
 * back as is that decimal exactly (the double is within 2^-53 of it, the
 * 15-digit grid is 10^-15 apart), so its digits, without the leading and
 * trailing zeros, count p; else 16 or 17. Subnormals, with fewer bits, are
 * tried one precision at a time. */
static int shortest_precision(double v)
{
    char t[40], *e;
    size_t first, last;
    if (v != 0 && fabs(v) < DBL_MIN) { /* subnormal: fewer bits, so each in turn */
        int p = 1;
        for (; p < 17; p++) {
            snprintf(t, sizeof t, "%.*g", p, v);
            if (strtod(t, NULL) == v)
                break;
        }
        return p;
    }
    snprintf(t, sizeof t, "%.15g", v);
    if (strtod(t, NULL) != v) {
        snprintf(t, sizeof t, "%.16g", v);
        return strtod(t, NULL) == v ? 16 : 17;
    }
    if ((e = strpbrk(t, "eE")))
        *e = '\0';
    first = strspn(t, "-0.");
    last = strlen(t);
    while (last > first && (t[last - 1] == '0' || t[last - 1] == '.'))
        last--;
    if (last == first)
        return 1; /* zero */
    return (int)(last - first) - (memchr(t + first, '.', last - first) != NULL);
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
    snprintf(buf, n, "%.*g", shortest_precision(v), v);
    /* Python prints integral floats as "1.0"; keep that so values read as floats. */
    if (!strpbrk(buf, ".eEn")) {
        size_t l = strlen(buf);
        if (l + 3 <= n)
            memcpy(buf + l, ".0", 3);
    }
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


int pe_parse_count_max(const char *flag, const char *s, unsigned long long min,
                       unsigned long long max, unsigned long long *out, pe_err *e)
{
    char *end;
    unsigned long long v;
    if (*s == '-' && s[1])
        return pe_errf(e, PE_EXIT_USAGE, "%s: %s is negative; expected a whole number >= %llu",
                       flag, s, min);
    if (!*s || *s == '-' || *s == '+')
        return pe_errf(e, PE_EXIT_USAGE, "%s: \"%s\" is not a whole number", flag, s);
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end)
        return pe_errf(e, PE_EXIT_USAGE, "%s: \"%s\" is not a whole number", flag, s);
    if (v < min)
        return pe_errf(e, PE_EXIT_USAGE, "%s: must be at least %llu", flag, min);
    if (v > max)
        return pe_errf(e, PE_EXIT_USAGE, "%s: must be at most %llu", flag, max);
    *out = v;
    return 0;
}

int pe_parse_count(const char *flag, const char *s, unsigned long long min,
                   unsigned long long *out, pe_err *e)
{
    return pe_parse_count_max(flag, s, min, ULLONG_MAX, out, e);
}
