/*
 * status: exit codes and the error record every fallible function fills.
 *
 * Ownership: a pe_err is the caller's (usually on its stack, zeroed); a
 * function that fails writes its code and one message into it and returns the
 * same code. Functions that can fail return 0 or a PE_EXIT_* status.
 *
 * Interruption: the library installs no signal handler. The tool's handler
 * calls pe_signal_note() (async-signal-safe); the library's long loops
 * outside the answering phase (loading, resume scans, summaries, reports,
 * score, merge, prepare) call pe_interrupted() and fail with
 * PE_EXIT_SIGINT or PE_EXIT_SIGTERM once a signal arrived after the last
 * pe_interrupt_arm() (the process starts armed). This state is process-wide.
 */
#ifndef PE_STATUS_H
#define PE_STATUS_H

/* Exit codes, documented in README.md and persona-eval.1. */
enum {
    PE_OK = 0,
    PE_EXIT_INTERNAL = 1,    /* a bug or an unexpected system failure */
    PE_EXIT_USAGE = 2,       /* bad command line */
    PE_EXIT_REGRESSION = 3,  /* report --baseline: a metric got worse */
    PE_EXIT_RUNERRORS = 4,   /* the run finished but some queries ended in error */
    PE_EXIT_INCOMPLETE = 5,  /* report --baseline, merge: a run or shard is incomplete */
    PE_EXIT_ERRORED = 6,     /* report --baseline: the new run has errored queries */
    PE_EXIT_INCOMPARABLE = 7,/* report --baseline: other queries, task, data or settings */
    PE_EXIT_DATA = 65,       /* bad input data */
    PE_EXIT_NOINPUT = 66,    /* an input file does not exist or cannot be opened */
    PE_EXIT_UNAVAILABLE = 69,/* the endpoint refuses every request (key, model, path) */
    PE_EXIT_IO = 74,         /* reading or writing files failed */
    PE_EXIT_LOCKED = 75,     /* another run is using the run folder */
    PE_EXIT_SIGINT = 130,
    PE_EXIT_SIGTERM = 143
};

typedef struct pe_err {
    int code;       /* 0 while no error was recorded */
    char msg[1024];
} pe_err;

/* Record a formatted message and code in e (if e is non-NULL); returns code. */
int pe_errf(pe_err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefix the message already in e with a formatted context ("file.json: "). */
void pe_err_prefix(pe_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Record a SIGINT or SIGTERM (from a signal handler). */
void pe_signal_note(int sig);
/* Forget the signals noted so far: only later ones interrupt. pe_run() arms
 * before it summarizes, so that a stop during the answers still ends with
 * the summary of what was answered. */
void pe_interrupt_arm(void);
/* 0, or, when a signal arrived since the last arm, the signal's exit code
 * with "interrupted by SIG... while <doing>" in e. Cheap: call it per item. */
int pe_interrupted(pe_err *e, const char *doing);

/* A notice for a log callback (fn may be NULL: nothing happens). */
void pe_logf(void (*fn)(void *ctx, const char *msg), void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
