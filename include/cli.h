/*
 * cli: the command line. Turns argv and the environment into settings and
 * calls the library; the only place that prints results and picks exit codes.
 */
#ifndef PE_CLI_H
#define PE_CLI_H

int cli_main(int argc, char **argv);

#endif
