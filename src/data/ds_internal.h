/*
 * ds_internal: helpers shared by the files of the dataset module (dataset.c,
 * ds_load.c, ds_prepare.c); not part of the public interface.
 *
 * Ownership: the *_free helpers release the strings and arrays of one record
 * (not the record itself); ds_top_users() returns a flag array the caller frees.
 */
#ifndef PE_DS_INTERNAL_H
#define PE_DS_INTERNAL_H

#include "dataset.h"

void ds_item_free(ds_item *it);
void ds_query_free(ds_query *q);
void ds_user_free(ds_user *u);
/* A copy of s, or NULL for NULL. */
char *ds_dupn(const char *s);
/* keep[i] = 1 for the n users with the most history items (interactions = 0) or
 * interactions (history plus answered queries; interactions = 1), ties by id;
 * n = 0 keeps all. */
unsigned char *ds_top_users(const dataset *d, size_t n, int interactions);

#endif
