#include "cli.h"

#include <stdio.h>

#include "util.h"

int cli_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "persona-eval %s\n", PE_VERSION);
    return PE_EXIT_INTERNAL;
}
