/*
 * cmd: one entry point per subcommand, each in its own src/cmd_*.c. They take
 * the arguments after the subcommand name (argv[0] is the subcommand) and
 * return the process exit status (PE_OK or a PE_EXIT_* code), printing any
 * error as one line on stderr.
 */
#ifndef PE_CMD_H
#define PE_CMD_H

int cmd_run(int argc, char **argv);      /* the default: run methods, write a run dir */
int cmd_prepare(int argc, char **argv);  /* LaMP files -> our JSONL */
int cmd_score(int argc, char **argv);    /* official-format scoring, or rescore a run dir */
int cmd_report(int argc, char **argv);   /* compare run dirs, baseline regression check */
int cmd_personas(int argc, char **argv); /* persona similarity matrix and drift */
int cmd_merge(int argc, char **argv);    /* join shard run dirs into one run */

#endif
