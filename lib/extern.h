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

/*
 * A journal frame (lib/journal.c): a head of EH__JFRAME_HEAD bytes,
 *   "EHJ1", the record's length (4 bytes, little-endian), its id
 *   (EH_ID_LEN bytes), a 16-byte BLAKE2b of the 48 bytes before it and
 *   of the record,
 * then the record.  Zeros, a torn write or a flipped bit fail the check.
 */
#define EH__JFRAME_HEAD (4 + 4 + EH_ID_LEN + 16)
#define EH__JFRAME_MAX (80UL * 1024 * 1024)    /* a record, at most */
/* The head of the frame of record rec[0..len) with id. */
void eh__jframe_head(unsigned char head[EH__JFRAME_HEAD], const char *id,
    const char *rec, size_t len);
/* Read head: 0 with id (NUL-terminated) and *len when its magic, length
 * (at most EH__JFRAME_MAX) and id are well formed; -1 if not. */
int eh__jframe_parse(const unsigned char head[EH__JFRAME_HEAD],
    char id[EH_ID_LEN + 1], size_t *len);
/* Whether rec[0..len) is the record head describes (the checksum). */
int eh__jframe_check(const unsigned char head[EH__JFRAME_HEAD],
    const char *rec, size_t len);

/* Write rec[0..len) as dirfd/<id>.json through sp's tmp/ (locked, as a
 * delivery's); flags EH__FILE_SYNC: fsync the file before and dirfd
 * after the rename.  EH_OK, or an error (sp's sys_errno, sys_op) with
 * nothing left behind; but with EH__FILE_REPLACE (it took the place of
 * a copy of the same event) a file renamed is kept when dirfd's fsync
 * fails: removing it would remove the event. */
#define EH__FILE_SYNC 1
#define EH__FILE_REPLACE 2
enum eh_err eh__spool_file(struct eh_spool *sp, int dirfd, const char *id,
    const char *rec, size_t len, int flags);
/* Group commit (lib/journal.c), for eh_spool_put: whether j serves sp's
 * new/; append rec and wait until it is durable (EH_OK, with *seg to
 * give back), or an error in sp's sys_errno and sys_op; then say
 * whether its new/ file was written (if not, the segment is replayed
 * before it goes). */
int eh__journal_serves(const struct eh_journal *j, const struct eh_spool *sp);
enum eh_err eh__journal_commit(struct eh_journal *j, struct eh_spool *sp,
    const char *id, const char *rec, size_t len, void **seg);
void eh__journal_release(struct eh_journal *j, void *seg, int in_new);

#endif
