#include "status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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

void pe_logf(void (*fn)(void *ctx, const char *msg), void *ctx, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    if (!fn)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fn(ctx, msg);
}
