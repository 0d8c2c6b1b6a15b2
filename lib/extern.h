/*
 * Shared between lib/ files only; not part of the public interface.
 */
#ifndef EH_EXTERN_H
#define EH_EXTERN_H

#include <stddef.h>

/* Lengths of the documented OneSpan fields (callback event table). */
#define EH_ONESPAN_ID_MAX 255      /* sessionUser, packageId, newRoleId */
#define EH_ONESPAN_DOCID_MAX 256   /* documentId */
#define EH_ONESPAN_MESSAGE_MAX 4000
/* AlphaTrust fields are short IDs and codes; bound them anyway. */
#define EH_FORM_VALUE_MAX 8192

/* Hex SHA-256 over "<provider>\n" and the canonical form of data. */
int eh__dedupe_key(char out[65], const char *provider, const void *data);

/* Case-insensitive ASCII comparison of n bytes (locale-free). */
int eh__strncaseeq(const char *a, const char *b, size_t n);

/* malloc'd copy of s[0..n) with a NUL, or NULL. */
char *eh__strndup(const char *s, size_t n);

/* Narrow [*s, *e) past the spaces and tabs at both ends; with cr set,
 * past '\r' too (a configuration file saved with CRLF line ends). */
void eh__trim(const char **s, const char **e, int cr);

#endif
