/*
 * task: the four LaMP tasks as data. Label lists (official order), input
 * templates, query-text extraction, memory text of profile items and answer
 * normalization.
 *
 * Ownership: task descriptors are static and never freed. Functions returning
 * char * return a new string the caller frees.
 */
#ifndef PE_TASK_H
#define PE_TASK_H

#include <stddef.h>

typedef enum task_id { TASK_LAMP1, TASK_LAMP2M, TASK_LAMP2N, TASK_LAMP3, TASK_COUNT } task_id;

typedef struct task {
    task_id id;
    const char *name;          /* "lamp2m" */
    const char *official;      /* "LaMP_2M": the task name in official files */
    const char *const *labels; /* official order */
    size_t nlabels;
    const char *const *fields; /* profile text fields, e.g. {"title", "text"} */
    size_t nfields;
    const char *label_field;   /* "tag", "category", "score"; NULL for lamp1 */
    int rating;                /* 1: MAE/RMSE (lamp3); 0: accuracy/F1 */
} task;

/* Look a task up by name: "lamp1", "lamp2m", ... (also accepts "LaMP_2M",
 * "LaMP-2M"). "LaMP_2" is no task by itself: it has named both lamp2 tasks, so
 * names read from data files go through task_from_file(), which decides it by
 * the labels, and a command line must say lamp2m or lamp2n. */
const task *task_get(const char *name);

/* The task a name read from a data file means, given the labels the file carries
 * (an outputs file's golds, a JSONL user's labels). "LaMP_2" (also "LaMP-2",
 * "lamp2") named the news task in LaMP's first release and the movie task since,
 * so the labels decide: news categories -> lamp2n, movie tags -> lamp2m; labels
 * in neither list are ignored. *undecided = 1 when the name is LaMP_2 and no label
 * is a known one (any lamp2 task fits; the result is NULL then). NULL also when
 * the name is unknown or the labels mix both lists. Every command (run, prepare,
 * score) reads file task names through this function or task_file_matches(). */
const task *task_from_file(const char *name, const char *const *labels, size_t nlabels,
                           int *undecided);
/* Whether a file's task name, with its labels, means t (see task_from_file). When
 * it does not and why is non-NULL, why receives the reason for a message,
 * starting with "is \"NAME\"" (e.g. `is "LaMP_2", which means lamp2n here (its
 * labels are news categories), but the task is lamp2m`). */
int task_file_matches(const task *t, const char *name, const char *const *labels,
                      size_t nlabels, char *why, size_t whylen);
const task *task_by_id(task_id id);
/* The names, comma-separated, for messages. */
const char *task_names(void);

/* Index of s in the label list by exact, case-sensitive match; -1 if absent. */
int task_label_index(const task *t, const char *s);

/* The task's input for a profile item, from the LaMP input template.
 * field values are in t->fields order. NULL for lamp1 (its input needs two
 * references that profile items do not have). */
char *task_build_input(const task *t, const char *const *field_values);
/* lamp1's input from a title and two references. */
char *task_build_lamp1_input(const char *title, const char *ref1, const char *ref2);

/* The retrieval query for an input, as LaMP's retriever forms it: the text
 * after "description:", "article:" or "review:" (stripped); for lamp1 the two
 * references joined by a space. Never NULL (the whole input if no marker). */
char *task_query_text(const task *t, const char *input);
/* lamp1: pull title and references out of an input; returns 0 on success. */
int task_lamp1_parse(const char *input, char **title, char **ref1, char **ref2);

/* Memory text of a profile item (lamp1 title + " " + abstract; lamp2m
 * description; lamp2n title + " " + text; lamp3 text). */
char *task_item_text(const task *t, const char *const *field_values);

/* Normalize a model's final answer to a label index, or -1 (invalid):
 * exact after stripping whitespace; unless strict, else the one label found
 * case-insensitively inside the answer at word boundaries (a label that lies
 * inside another found label, as "comedy" in "dark comedy", does not count
 * separately); several different labels → -1. lamp1 also takes a lone 1 or
 * 2 ("Reference 2") when no bracketed label is there. */
int task_normalize(const task *t, const char *answer, int strict);

#endif
