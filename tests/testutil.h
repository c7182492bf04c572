/*
 * testutil: helpers shared by the Check suites: temporary folders, running the
 * real binary, reading and writing files, the suite runner.
 *
 * Ownership: every char * returned is the caller's to free().
 */
#ifndef PE_TESTUTIL_H
#define PE_TESTUTIL_H

#include <check.h>
#include <stddef.h>

/* A new empty folder under $TMPDIR (or /tmp). */
char *tu_tmpdir(void);
/* rm -rf path. */
void tu_rmrf(const char *path);
/* Run a shell command; returns its exit status (128+signal when killed) and,
 * when out/err are non-NULL, what it printed. */
int tu_sh(char **out, char **err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The binary under test ($PE_BIN, else ./persona-eval). */
const char *tu_bin(void);
/* Repository root (the folder make check runs in). */
const char *tu_root(void);
/* Read a whole file ("" if missing: check existence with tu_exists). */
char *tu_read(const char *path);
void tu_write(const char *path, const char *text);
int tu_exists(const char *path);
/* Path join: tu_path(dir, name). */
char *tu_path(const char *dir, const char *name);
/* Wall seconds and peak RSS (KB) of a command (argv, found on PATH) run to
 * completion with its output discarded; -1 when it cannot run or exits
 * non-zero. For benchmarks. */
double tu_run_timed(char *const argv[], long *rss_kb);
/* Run a suite (CK_NORMAL); the return value is main's exit status. */
int tu_run_suite(Suite *s);

#endif
