#include "status.h"

#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

/* Lock-free atomics: safe to update from a signal handler. */
static atomic_int signals_noted, signals_armed, last_signal;

void pe_signal_note(int sig)
{
    atomic_store(&last_signal, sig);
    atomic_fetch_add(&signals_noted, 1);
}

void pe_interrupt_arm(void)
{
    atomic_store(&signals_armed, atomic_load(&signals_noted));
}

int pe_interrupted(pe_err *e, const char *doing)
{
    int term;
    if (atomic_load_explicit(&signals_noted, memory_order_relaxed) ==
        atomic_load_explicit(&signals_armed, memory_order_relaxed))
        return 0;
    term = atomic_load(&last_signal) == SIGTERM;
    return pe_errf(e, term ? PE_EXIT_SIGTERM : PE_EXIT_SIGINT, "interrupted by %s while %s",
                   term ? "SIGTERM" : "SIGINT", doing);
}

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
