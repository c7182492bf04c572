/* Helpers shared by the subcommands: getopt messages, --data, unknown tasks,
 * shell words, signals. */
#include "cli_common.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

static volatile sig_atomic_t signalled;

static void on_signal(int sig)
{
    if (signalled) { /* the second: at once, as the default action would */
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    signalled = 1;
    pe_signal_note(sig);
}

void cli_catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

size_t cli_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), *row = xcalloc(lb + 1, sizeof *row), d;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            diag = up;
            row[j] = best;
        }
    }
    d = row[lb];
    free(row);
    return d;
}

const char *cli_closest(const char *word, const char *const *cands, size_t n)
{
    const char *best = NULL;
    size_t bd = (size_t)-1, limit = strlen(word) < 6 ? 2 : strlen(word) / 3;
    for (size_t i = 0; i < n; i++) {
        size_t d = cli_edit_distance(word, cands[i]);
        if (d < bd) {
            bd = d;
            best = cands[i];
        }
    }
    return bd <= limit ? best : NULL;
}

int cli_getopt_error(int argc, char **argv, int ch, const struct option *opts, pe_err *e)
{
    const char *arg = optind - 1 < argc && optind >= 1 ? argv[optind - 1] : "?";
    const char **names = NULL, *near = NULL;
    size_t n = 0;
    char *word;
    int rc;
    if (ch == ':')
        return pe_errf(e, PE_EXIT_USAGE, "option %s needs a value", arg);
    if (optopt)
        return pe_errf(e, PE_EXIT_USAGE, "unknown option -%c (see --help)", optopt);
    word = xasprintf("%.*s", (int)strcspn(arg + strspn(arg, "-"), "="), arg + strspn(arg, "-"));
    for (; opts && opts[n].name; n++) {
        names = xrealloc(names, (n + 1) * sizeof *names);
        names[n] = opts[n].name;
    }
    near = n ? cli_closest(word, names, n) : NULL;
    if (near)
        rc = pe_errf(e, PE_EXIT_USAGE, "unknown option %s (did you mean --%s?)", arg, near);
    else
        rc = pe_errf(e, PE_EXIT_USAGE, "unknown option %s (see --help)", arg);
    free(word);
    free(names);
    return rc;
}

void cli_data_files(int argc, char **argv, const char *arg, const char ***list, size_t *n)
{
    *list = xrealloc(*list, (*n + 1) * sizeof **list);
    (*list)[(*n)++] = arg;
    while (optind < argc && argv[optind][0] != '-') {
        *list = xrealloc(*list, (*n + 1) * sizeof **list);
        (*list)[(*n)++] = argv[optind++];
    }
}

int cli_unknown_task(const char *name, pe_err *e)
{
    const char *tasks[] = {"lamp1", "lamp2m", "lamp2n", "lamp3"}, *near;
    if (strcmp(name, "lamp2") == 0 || strcmp(name, "LaMP_2") == 0)
        return pe_errf(e, PE_EXIT_USAGE, "--task %s: LaMP-2 comes in two tasks: lamp2m (movie "
                                         "tags) and lamp2n (news categories)", name);
    near = cli_closest(name, tasks, 4);
    if (near)
        return pe_errf(e, PE_EXIT_USAGE, "unknown task \"%s\" (did you mean %s?)", name, near);
    return pe_errf(e, PE_EXIT_USAGE, "unknown task \"%s\" (tasks: lamp1, lamp2m, lamp2n, lamp3)",
                   name);
}

char *cli_shell_word(const char *s)
{
    buf b = BUF_INIT;
    if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                        "_./:@%+=,-") == strlen(s))
        return xstrdup(s);
    buf_addc(&b, '\'');
    for (; *s; s++)
        if (*s == '\'')
            buf_adds(&b, "'\\''");
        else
            buf_addc(&b, *s);
    buf_addc(&b, '\'');
    return buf_detach(&b);
}
