/* The prompt templates compiled into the binary (see prompts/README.md). */
#ifndef PE_PROMPTS_DATA_H
#define PE_PROMPTS_DATA_H

#include <stddef.h>

struct prompt_file {
    const char *name; /* file name without ".txt" */
    const char *text;
};

extern const struct prompt_file prompt_files[];
extern const size_t prompt_nfiles;

#endif
