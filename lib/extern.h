/*
 * Shared between lib/ files only; not part of the public interface.
 */
#ifndef EH_EXTERN_H
#define EH_EXTERN_H

#include <dirent.h>
#include <stddef.h>

/* Lengths of the documented OneSpan fields (callback event table). */
#define EH_ONESPAN_ID_MAX 255      /* sessionUser, packageId, newRoleId */
#define EH_ONESPAN_DOCID_MAX 256   /* documentId */
#define EH_ONESPAN_MESSAGE_MAX 4000
/* AlphaTrust fields are short IDs and codes; bound them anyway. */
#define EH_FORM_VALUE_MAX 8192

/* One urlencoded name or value s[0..n) ('+' as space, %XX) into a
 * malloc'd NUL-terminated *out, as eh_form_read decodes it: bad escapes,
 * NUL, invalid UTF-8 and over EH_FORM_VALUE_MAX bytes are errors. */
enum eh_err eh__form_decode(char **out, const char *s, size_t n);

/* An id for when, as eh_id_make's, with rnd as its random part. */
void eh__id_format(char id[EH_ID_LEN + 1], const struct timespec *when,
    const unsigned char rnd[8]);

/* Hex SHA-256 over "<provider>\n" and the canonical form of data. */
int eh__dedupe_key(char out[65], const char *provider, const void *data);

/* Append src's lines to dst, each after prefix (or ""). */
void eh__problems_append(struct eh_problems *dst,
    const struct eh_problems *src, const char *prefix);
/* A field name fit for a problem line: at most 40 bytes of it (then
 * "..."), control characters as '?', into out[cap]; returns out. */
const char *eh__problem_name(char *out, size_t cap, const char *name);

/* Case-insensitive ASCII comparison of n bytes (locale-free). */
int eh__strncaseeq(const char *a, const char *b, size_t n);
/* Whether content type ct is want (case-insensitive; parameters allowed). */
int eh__media_type_is(const char *ct, const char *want);

/* malloc'd copy of s[0..n) with a NUL, or NULL. */
char *eh__strndup(const char *s, size_t n);

/* Narrow [*s, *e) past the spaces and tabs at both ends; with cr set,
 * past '\r' too (a configuration file saved with CRLF line ends). */
void eh__trim(const char **s, const char **e, int cr);

/* Wipe the string *s (may be NULL), free it, set *s to NULL. */
void eh__wipe_free(char **s);
/* Whether s[0..n) has no control character (C0 or DEL). */
int eh__printable(const char *s, size_t n);
/* dirfd's entries, through a descriptor of their own (closedir it):
 * the stream, or NULL with errno. */
DIR *eh__dir_open(int dirfd);
/* eh_read_fd of dirfd's path (AT_FDCWD: the working directory's),
 * opened O_RDONLY | O_CLOEXEC | flags: 0, or -1 with errno. */
int eh__read_file(int dirfd, const char *path, int flags, size_t max,
    char **buf, size_t *len);

/* Whether t is a subject template ESIGNHOOK_NATS_SUBJECT takes: tokens
 * of printable ASCII (no blank, '*', '>') and known {placeholders},
 * none empty (lib/natsubj.c). */
int eh__nats_template_ok(const char *t);

#endif
