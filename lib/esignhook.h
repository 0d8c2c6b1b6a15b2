/*
 * esignhook: receive e-signature callbacks and spool them durably.
 *
 * This is the one public header of lib/: the receiver (cgi/esignhook.c),
 * the operator tool and the tests use only what is declared here.
 * Every public name starts with eh_ / EH_.  Nothing in lib/ reads the
 * environment, prints, exits or keeps mutable global state: callers pass
 * lookups and handles in, and get error codes back.
 */
#ifndef ESIGNHOOK_H
#define ESIGNHOOK_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define EH_VERSION "0.1.0"

/* ------------------------------------------------------------------ */
/* Errors: one enum of causes; eh_err_status() maps each to HTTP.      */

enum eh_err {
	EH_OK = 0,
	EH_ERR_NOMEM,           /* allocation failed (503) */
	EH_ERR_METHOD,          /* method other than GET/POST (405) */
	EH_ERR_CLEN,            /* CONTENT_LENGTH not plain decimal (400) */
	EH_ERR_TOO_LARGE,       /* body over the configured limit (413) */
	EH_ERR_SHORT_BODY,      /* fewer bytes than CONTENT_LENGTH (400) */
	EH_ERR_READ,            /* reading the body failed (503) */
	EH_ERR_MEDIA_TYPE,      /* unsupported content type (415) */
	EH_ERR_AUTH_NONE,       /* no secret configured for provider (401) */
	EH_ERR_AUTH_MISSING,    /* request carries no credential (401) */
	EH_ERR_AUTH_WRONG,      /* credential matches no secret (401) */
	EH_ERR_JSON,            /* malformed JSON (400) */
	EH_ERR_NOT_OBJECT,      /* JSON body is not an object (400) */
	EH_ERR_FIELD_MISSING,   /* a required field is absent (400) */
	EH_ERR_FIELD_TYPE,      /* a field has the wrong type (400) */
	EH_ERR_FIELD_SIZE,      /* a field is over its documented size (400) */
	EH_ERR_FIELD_DIGITS,    /* an ID or status is not digits (400) */
	EH_ERR_FIELD_DUP,       /* a form field given twice (400) */
	EH_ERR_FORM_ESCAPE,     /* bad percent-encoding (400) */
	EH_ERR_FORM_NUL,        /* decoded NUL byte (400) */
	EH_ERR_UTF8,            /* invalid UTF-8 (400) */
	EH_ERR_FORM_LIMIT,      /* too many fields or a field too long (400) */
	EH_ERR_PROVIDER,        /* request does not fit the configured provider (400) */
	EH_ERR_SPOOL_CONFIG,    /* no spool configured (503) */
	EH_ERR_SPOOL_IO,        /* spool unwritable or an I/O error (503) */
	EH_ERR_SPOOL_FULL,      /* disk full / under ESIGNHOOK_SPOOL_MIN_FREE (503) */
	EH_ERR_SPOOL_BACKLOG,   /* over ESIGNHOOK_SPOOL_MAX_EVENTS waiting (503) */
	EH_ERR_CONFIG,          /* invalid configuration (500 / check-config) */
	/* The OAuth 2.0 token endpoint (RFC 6749 5.2) and Bearer tokens. */
	EH_ERR_OAUTH_REQUEST,   /* missing/repeated parameter, two client auths (400 invalid_request) */
	EH_ERR_OAUTH_GRANT,     /* grant_type is not client_credentials (400 unsupported_grant_type) */
	EH_ERR_OAUTH_NONE,      /* no OAuth client configured (401 invalid_client) */
	EH_ERR_OAUTH_CLIENT,    /* unknown client_id (401 invalid_client) */
	EH_ERR_OAUTH_SECRET,    /* wrong client secret (401 invalid_client) */
	EH_ERR_MULTIPART,       /* malformed multipart/form-data body (400) */
	EH_ERR_TOKEN_MALFORMED, /* Bearer token not of our format (401 invalid_token) */
	EH_ERR_TOKEN_MAC,       /* Bearer token's MAC matches no secret (401 invalid_token) */
	EH_ERR_TOKEN_EXPIRED,   /* Bearer token past its expiry (401 invalid_token) */
	EH_ERR__MAX
};

/* A short, constant, secret-free description of err. */
const char *eh_strerror(enum eh_err err);
/* The HTTP status a request failing with err receives. */
int eh_err_status(enum eh_err err);

/* ------------------------------------------------------------------ */
/* Configuration.                                                      */

enum eh_provider {
	EH_PROVIDER_AUTO = 0,
	EH_PROVIDER_ONESPAN,
	EH_PROVIDER_ALPHATRUST
};
const char *eh_provider_name(enum eh_provider p);

enum eh_log_target {
	EH_LOG_STDERR = 0,
	EH_LOG_SYSLOG
};

/*
 * A set of secrets, kept only as SHA-256 digests: the plaintext the
 * configuration parsed is wiped once hashed.  (Secrets given in the
 * environment stay in it: prefer the configuration file.)
 */
struct eh_secrets {
	size_t n;
	unsigned char (*digest)[32];
};

/*
 * OAuth 2.0 client credentials (RFC 6749 4.4): esignhook is the token
 * endpoint OneSpan asks, and checks the Bearer tokens it minted without
 * shared state.  Each client secret is kept as its SHA-256 digest (to
 * compare) and as a token-signing key derived from it (one way), in
 * the same order: rotating a secret out revokes its tokens.
 */
struct eh_oauth {
	char *client_id;                  /* ESIGNHOOK_OAUTH_CLIENT_ID, NULL: off */
	struct eh_secrets secrets;        /* ESIGNHOOK_OAUTH_CLIENT_SECRETS */
	unsigned char (*mac_key)[32];     /* secrets.n keys, eh_oauth_derive */
	int64_t ttl_s;                    /* ESIGNHOOK_OAUTH_TOKEN_TTL, 3600 */
};

#define EH_OAUTH_DEFAULT_TTL 3600        /* seconds */
#define EH_OAUTH_MAX_TTL 86400
#define EH_OAUTH_SKEW 60                 /* seconds a clock may be behind */
#define EH_OAUTH_MAX_BODY 4096           /* a token request's body, at most */
#define EH_OAUTH_TOKEN_MAX 128           /* a token, NUL included */
#define EH_OAUTH_SCOPE_MAX 128           /* a scope echoed back, NUL included */
#define EH_OAUTH_NONCE_LEN 16

/*
 * How a FastCGI worker makes an event durable (ESIGNHOOK_SPOOL_COMMIT):
 * file, an fsync of each event's file and of new/ (CGI always); group,
 * one fdatasync of the process's journal for every event appended
 * meanwhile (lib/journal.c, README "Group commit").
 */
enum eh_commit {
	EH_COMMIT_FILE = 0,
	EH_COMMIT_GROUP
};

struct eh_config {
	char *spool;                      /* ESIGNHOOK_SPOOL, NULL if unset */
	struct eh_secrets onespan;        /* ESIGNHOOK_ONESPAN_KEYS */
	struct eh_secrets alphatrust;     /* ESIGNHOOK_ALPHATRUST_TOKENS */
	char *response_text;              /* ESIGNHOOK_RESPONSE_TEXT, NULL: "OK" */
	size_t max_body;                  /* ESIGNHOOK_MAX_BODY */
	unsigned long max_events;         /* ESIGNHOOK_SPOOL_MAX_EVENTS, 0: no limit */
	unsigned long long min_free;      /* ESIGNHOOK_SPOOL_MIN_FREE (bytes) */
	enum eh_provider provider;        /* ESIGNHOOK_PROVIDER */
	enum eh_log_target log;           /* ESIGNHOOK_LOG */
	unsigned threads;                 /* ESIGNHOOK_THREADS (FastCGI) */
	int allow_root;                   /* ESIGNHOOK_ALLOW_ROOT */
	int sandbox;                      /* ESIGNHOOK_SANDBOX */
	int64_t read_timeout_ms;          /* ESIGNHOOK_READ_TIMEOUT (FastCGI) */
	struct eh_oauth oauth;            /* ESIGNHOOK_OAUTH_* */
	enum eh_commit commit;            /* ESIGNHOOK_SPOOL_COMMIT (FastCGI) */
};

#define EH_DEFAULT_MAX_BODY 65536
#define EH_DEFAULT_MAX_EVENTS 100000UL
#define EH_DEFAULT_MIN_FREE (64ULL * 1024 * 1024)
#define EH_DEFAULT_THREADS 8
/* AlphaTrust's own timeout: a sender slower than that has given up. */
#define EH_DEFAULT_READ_TIMEOUT_MS 10000

/*
 * A lookup returns the value of a key (e.g. getenv, FCGX_GetParam, or
 * a parsed configuration file), or NULL when the key is unset.  The
 * returned string is only borrowed.
 */
typedef const char *(*eh_lookup_fn)(void *ctx, const char *key);

/* Names of every configuration key, NULL-terminated. */
extern const char *const eh_config_keys[];

/* Set cfg to the defaults.  Owns nothing yet. */
void eh_config_init(struct eh_config *cfg);
/* Free what cfg owns and reset it to the defaults; safe to call twice. */
void eh_config_free(struct eh_config *cfg);
/* Deep copy src into dst (dst is overwritten, not freed). */
enum eh_err eh_config_copy(struct eh_config *dst, const struct eh_config *src);

/*
 * Apply every key that lookup knows on top of cfg.  On error, cfg keeps
 * the keys applied so far, and *badkey (if not NULL) names the offending
 * key (a static string); the value is never reported, it may be secret.
 */
enum eh_err eh_config_apply(struct eh_config *cfg, eh_lookup_fn lookup,
    void *ctx, const char **badkey);
/* Whether lookup knows any configuration key at all. */
int eh_config_any(eh_lookup_fn lookup, void *ctx);
/*
 * What no single key can say, checked once every source is applied
 * (eh_config_load does; so must a per-request override): an OAuth
 * client id without secrets, or secrets without an id, is
 * EH_ERR_CONFIG, *badkey naming the key that is missing.
 */
enum eh_err eh_config_check(const struct eh_config *cfg, const char **badkey);

/*
 * A configuration file: KEY=value lines, '#' comments, blank lines.
 * eh_conffile_parse copies what it needs; buf may be wiped afterwards.
 * On a syntax error, *line gets the 1-based line number.
 */
struct eh_conffile {
	size_t n;
	char **key;
	char **value;
};
enum eh_err eh_conffile_parse(struct eh_conffile *cf, const char *buf,
    size_t len, size_t *line);
/* An eh_lookup_fn over a parsed file (ctx is the struct eh_conffile). */
const char *eh_conffile_lookup(void *ctx, const char *key);
/* Wipe and free; safe to call twice. */
void eh_conffile_free(struct eh_conffile *cf);

/* ------------------------------------------------------------------ */
/* Form decoding (application/x-www-form-urlencoded), strict.          */

#define EH_FORM_MAX_FIELDS 64

struct eh_form {
	size_t n;
	char *name[EH_FORM_MAX_FIELDS];   /* decoded, NUL-terminated, owned */
	char *value[EH_FORM_MAX_FIELDS];  /* decoded, NUL-terminated, owned */
};

/*
 * What an authenticated delivery got wrong: one line each (no input but
 * a bounded field name, never a value), kept in the event's record as
 * "problems".  Past EH_PROBLEMS_MAX lines, the rest are only counted.
 */
#define EH_PROBLEMS_MAX 8
#define EH_PROBLEM_MAX 128
struct eh_problems {
	size_t n;                       /* lines in line[] */
	size_t dropped;                 /* further problems, not listed */
	enum eh_err first;              /* the cause of line[0] */
	char line[EH_PROBLEMS_MAX][EH_PROBLEM_MAX];
};
/* Add a line (printf format, cut to EH_PROBLEM_MAX, kept valid UTF-8). */
void eh_problem_add(struct eh_problems *pr, enum eh_err err,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* buf is a query string: a second '?' separates fields as '&' does. */
#define EH_FORM_QUERY 0x1

/*
 * Decode buf[0..len) into form (WHATWG urlencoded parsing: empty pairs,
 * as in "a=1&&b=2" or a trailing '&', are skipped).  A body (flags 0)
 * may start with a UTF-8 byte order mark and end in CR/LF bytes: neither
 * is part of a field.  Bad %-escapes, a decoded NUL, invalid UTF-8 and
 * more than EH_FORM_MAX_FIELDS fields are errors (with pr, also a line
 * in pr saying which field).  A name given twice or an empty name is an
 * error without pr; with pr, a line in pr, the first value kept and an
 * unnamed field skipped.  On error the form is left empty.
 */
enum eh_err eh_form_read(struct eh_form *form, const char *buf, size_t len,
    unsigned flags, struct eh_problems *pr);
/* eh_form_read(form, buf, len, 0, NULL): a body, strictly. */
enum eh_err eh_form_parse(struct eh_form *form, const char *buf, size_t len);
/* The value of name, or NULL. */
const char *eh_form_get(const struct eh_form *form, const char *name);
void eh_form_free(struct eh_form *form);
/* Whether buf[0..len) is well-formed UTF-8 (no overlongs, no surrogates). */
int eh_utf8_valid(const char *buf, size_t len);

/* ------------------------------------------------------------------ */
/* Events: what a provider parser makes of a callback.                 */

struct eh_event {
	enum eh_provider provider;
	char *name;            /* OneSpan name or AlphaTrust EventType,
	                        * owned; NULL: it could not be read */
	int known;             /* named in the provider's documents (and
	                        * no problems) */
	char *transaction_id;  /* packageId or TransID, owned, or NULL */
	char *data;            /* the "data" JSON object, serialised, owned;
	                        * NULL: the body is kept as raw instead */
	size_t data_len;
	char *raw;             /* with data NULL: the bytes received, owned */
	size_t raw_len;
	char dedupe_key[65];   /* hex SHA-256 over provider and data (raw) */
	struct eh_problems problems; /* none for a valid event */
};
void eh_event_free(struct eh_event *ev);

/*
 * An event whose bytes cannot become data at all: data NULL, raw a copy
 * of buf[0..len), no name, no transaction id, the dedupe key over
 * "<provider>\nraw\n" and the bytes; pr (or NULL) its problems.
 */
enum eh_err eh_event_raw(struct eh_event *ev, enum eh_provider provider,
    const char *buf, size_t len, const struct eh_problems *pr);

/*
 * OneSpan Sign: body is the JSON object OneSpan POSTs (a leading UTF-8
 * byte order mark is not part of it).  On success ev owns copies; data
 * is the received bytes unchanged, less the mark and outer blanks.
 * Anything eh_onespan_read calls a problem is an error here, its cause.
 */
enum eh_err eh_onespan_parse(struct eh_event *ev, const char *body,
    size_t len);
/*
 * The same for an authenticated delivery, which is stored whatever it
 * holds: EH_OK (EH_ERR_NOMEM only) with ev->problems saying what did not
 * fit the documents; a body that is no JSON object becomes a raw event.
 */
enum eh_err eh_onespan_read(struct eh_event *ev, const char *body,
    size_t len);
/* Whether name is a OneSpan event named in its documents. */
int eh_onespan_known(const char *name);

/*
 * AlphaTrust e-Sign: form holds the decoded fields; a field named skip
 * (our URL token parameter, or NULL) is left out of data.
 */
enum eh_err eh_alphatrust_parse(struct eh_event *ev,
    const struct eh_form *form, const char *skip);
/* As eh_onespan_read: EH_OK or EH_ERR_NOMEM, problems in ev->problems. */
enum eh_err eh_alphatrust_read(struct eh_event *ev,
    const struct eh_form *form, const char *skip);
int eh_alphatrust_known(const char *event_type);
/* "Complete" for TXStatus 4 etc.; NULL for codes the documents do not name. */
const char *eh_alphatrust_tx_status(const char *code);
const char *eh_alphatrust_part_status(const char *code);

/* ------------------------------------------------------------------ */
/* The record: the one JSON object stored per event.                   */

#define EH_ID_LEN 40 /* "20261122T113204.123456Z-0123456789abcdef" */

/*
 * Build the spool record for ev, received at 'when' from remote_addr
 * (may be NULL), with identifier id.  *out is malloc'd, ends in "\n",
 * and is owned by the caller.
 */
enum eh_err eh_record_build(char **out, size_t *outlen,
    const struct eh_event *ev, const char *id, const struct timespec *when,
    const char *remote_addr);

/* Make an identifier (EH_ID_LEN chars + NUL) for an arrival at 'when'. */
void eh_id_make(char id[EH_ID_LEN + 1], const struct timespec *when);

/*
 * A record read back from the spool (for esignhookctl and users' own
 * programs).  Strings point into 'json', which the struct owns.
 */
struct eh_record {
	void *json;            /* json_t *, the whole record */
	const char *id;
	const char *received_at;
	const char *provider;
	const char *event;     /* NULL: null, the event could not be read */
	int known_event;
	const char *transaction_id; /* NULL: null */
	const char *dedupe_key;
	const char *remote_addr; /* NULL if not recorded */
	void *data;            /* json_t * object, borrowed from json; NULL:
	                        * null, the body is in raw */
	void *problems;        /* json_t * array of strings, or NULL: none */
	const char *raw;       /* base64 of the body when data is null */
};
enum eh_err eh_record_parse(struct eh_record *rec, const char *buf,
    size_t len);
void eh_record_free(struct eh_record *rec);

/* ------------------------------------------------------------------ */
/* The spool: maildir discipline, tmp/ -> fsync -> new/ -> fsync dir.  */

struct eh_spool {
	char *path;
	char *newpath;               /* path + "/new", for eh_spool_alive */
	int dirfd, tmpfd, newfd, seenfd;
	uint64_t new_dev, new_ino;   /* the new/ that newfd holds */
	struct timespec last;        /* last id time, keeps ids increasing */
	unsigned long count;         /* events in new/ at count_at */
	struct timespec count_at;
	int counted;                 /* count is set: new/ was read */
	unsigned count_sample;       /* count on 1 in N admits (0: always);
	                              * for CGI, where nothing is cached */
	char host[33];               /* this host, in tmp/ names (for people) */
	long pid;                    /* this process, in tmp/ names */
	int sys_errno;               /* errno of the last failure, for logs */
	const char *sys_op;          /* which operation failed (static) */
	unsigned char id_pool[256];  /* random bytes for ids' random parts,
	                              * drawn 32 ids at a time */
	size_t id_left;              /* bytes of id_pool not yet used */
	struct eh_journal *journal;  /* group commit through it (not owned;
	                              * kept, as count_sample); NULL: file */
};

#define EH_SPOOL_STALE_SECONDS (36 * 3600)

/* Make sp a closed handle: nothing owned, every descriptor -1, no
 * setting (count_sample 0). */
void eh_spool_init(struct eh_spool *sp);
/*
 * Open (creating 0700 directories as needed) the spool at path into sp,
 * which need not be initialised: everything in it is reset, settings
 * included.  The handle owns its descriptors; eh_spool_close releases
 * them and is safe to call twice.
 */
enum eh_err eh_spool_open(struct eh_spool *sp, const char *path);
/*
 * Close sp (an initialised or open handle) and open it on path again,
 * keeping what is not a resource: count_sample and the id clock (ids
 * keep increasing).  The receiver's way to open, lazily or after the
 * spool was removed or moved.
 */
enum eh_err eh_spool_reopen(struct eh_spool *sp, const char *path);
/* Release what sp owns; count_sample and the id clock stay. */
void eh_spool_close(struct eh_spool *sp);
/*
 * Whether sp is open and its path still leads to the new/ it holds (one
 * stat): false once the spool or its new/ was removed, or moved and
 * replaced by another directory.
 */
int eh_spool_alive(const struct eh_spool *sp);

/*
 * Check that sp can take one more event under cfg's limits: room on
 * disk, and at most max_events waiting in new/.
 */
enum eh_err eh_spool_admit(struct eh_spool *sp, const struct eh_config *cfg);

/*
 * Store ev durably: on EH_OK the record is in new/<id>.json and new/
 * has been fsynced.  On error nothing is left in new/ and tmp/.
 * For OneSpan, a dedupe_key already seen (seen/<ab>/<key>, or seen/<key>
 * from before the shards) sets *dup and stores nothing; deliveries of
 * one key are serialised by a lock in seen/.lock, between threads and
 * processes, so two at once store it once.
 * id receives the event's identifier (or the first one's, for a dup).
 */
enum eh_err eh_spool_put(struct eh_spool *sp, const struct eh_event *ev,
    const char *remote_addr, char id[EH_ID_LEN + 1], int *dup);

/*
 * Remove the tmp/ files no writer holds (each writer keeps a lock on
 * its file until it is in new/; names decide nothing) and those older
 * than max_age seconds; returns how many.
 */
unsigned long eh_spool_clean_tmp(struct eh_spool *sp, time_t max_age);

/* Whether a record-sized file can be written in tmp/ now. */
enum eh_err eh_spool_probe(struct eh_spool *sp);
/* The health check: eh_spool_admit's limits hold and the probe works. */
enum eh_err eh_spool_health(struct eh_spool *sp, const struct eh_config *cfg);

/* Count the events waiting in new/ (dot-files skipped). */
enum eh_err eh_spool_count(struct eh_spool *sp, unsigned long *n);

/* ------------------------------------------------------------------ */
/* Group commit: a FastCGI process's journal in spool/journal/.        */

/*
 * One per receiver process, shared by its threads (it has its own
 * lock).  A spool handle whose journal is set and names the same new/
 * stores through it: eh_spool_put appends the record to the active
 * segment and waits for one fdatasync that covers it (the first waiter
 * makes it for everyone appended by then); new/<id>.json is then
 * written without an fsync, by the journal's publisher
 * (eh_journal_set_publisher) or else by the thread itself.  A segment is removed only once a syncfs(2) made
 * every event in it durable in new/ (eh_journal_tick).
 */
struct eh_journal;

/* What eh_journal_tick and eh_journal_recover did. */
struct eh_journal_report {
	unsigned segments;          /* segments removed */
	unsigned long records;      /* records read back (recovery, replay) */
	unsigned long rewritten;    /* of them, written again: missing or
	                             * not whole in every folder */
	unsigned long torn;         /* torn or corrupt tails dropped */
	int sys_errno;              /* of a failure, for the log */
	const char *sys_op;         /* which operation failed, or NULL */
};

/*
 * The journal of the open spool sp (journal/ created 0700 as needed),
 * for this process: *jp, owned by the caller (eh_journal_close).
 * The first segment is made here: a spool where one cannot be made
 * or locked (no OFD locks) is refused before serving.
 * Errors as eh_spool_open's, in sp's sys_errno and sys_op.
 */
enum eh_err eh_journal_open(struct eh_journal **jp, struct eh_spool *sp);
/*
 * The keeper's step, about every quarter second from one thread: seal
 * the active segment once it is max_age_ms old and holds a record
 * (the next one made first, so no request waits for it); replay into
 * new/ the records of a sealed segment whose new/ file failed; then,
 * with one syncfs, remove the sealed segments whose every event is in
 * new/.  EH_OK, or an error (rep says which call) with what could not
 * be removed kept for the next step.
 */
enum eh_err eh_journal_tick(struct eh_journal *j, int64_t max_age_ms,
    struct eh_journal_report *rep);
/*
 * Hand new/ to a publisher: from now on a delivery is answered once its
 * frame is synced, and eh_journal_publish, called in a loop by one
 * thread of the caller's, writes the new/ files in order (one writer:
 * on ext4 sixteen threads creating files beside the journal's commits
 * stall each other).  Acknowledgements wait when new/ falls 2 MiB of
 * records behind.  Call before the threads that store start; without
 * it each thread writes its own new/ file before its reply.
 */
enum eh_err eh_journal_set_publisher(struct eh_journal *j);
/*
 * Write the new/ files of the oldest records synced and not yet
 * published, waiting up to wait_ms for some; rep->records counts them.
 * A file that cannot be written is left to the keeper's replay (an
 * error says which call failed).
 */
enum eh_err eh_journal_publish(struct eh_journal *j, int64_t wait_ms,
    struct eh_journal_report *rep);
/*
 * Seal and retire everything (the threads storing through j are gone,
 * the publisher too: what it left is published first), then free j.  What cannot be retired stays for recovery.  NULL is
 * fine.
 */
enum eh_err eh_journal_close(struct eh_journal *j,
    struct eh_journal_report *rep);
/*
 * Recovery, at a receiver's start and in esignhookctl drain: replay the
 * segments of sp's journal/ whose writer is gone (none holds its lock):
 * each whole record whose event is in no folder (new, cur, retry, done,
 * failed), or is there but not whole, is written again (through tmp/),
 * into new/ or the folder that has it; a torn or corrupt tail, never
 * acknowledged, is dropped; then one syncfs, and only then are the
 * segments removed.  A crash may so cause a duplicate, never a loss.
 */
enum eh_err eh_journal_recover(struct eh_spool *sp,
    struct eh_journal_report *rep);
/* What a step or a recovery did (err, rep), for a log line: the counts,
 * or the failure and its call. */
void eh_journal_describe(char *buf, size_t cap, enum eh_err err,
    const struct eh_journal_report *rep);

/* ------------------------------------------------------------------ */
/* Request handling: a pure function from request to decision.         */

enum eh_body_state {
	EH_BODY_OK = 0,   /* body/body_len hold the whole body */
	EH_BODY_UNREAD,   /* not read: refused before authentication, or
	                   * CONTENT_LENGTH bad or over the limit */
	EH_BODY_OVER,     /* more than max_body bytes arrived */
	EH_BODY_SHORT,    /* fewer bytes than CONTENT_LENGTH */
	EH_BODY_IOERR     /* the read failed */
};

/* Everything the handler may look at.  All strings are borrowed. */
struct eh_request {
	const char *method;         /* REQUEST_METHOD */
	const char *request_uri;    /* REQUEST_URI (path and query) */
	const char *query;          /* QUERY_STRING */
	const char *content_type;   /* CONTENT_TYPE */
	const char *content_length; /* CONTENT_LENGTH */
	const char *authorization;  /* HTTP_AUTHORIZATION */
	const char *remote_addr;    /* REMOTE_ADDR */
	const char *path_info;      /* PATH_INFO: token source without REQUEST_URI */
	const char *request_id;     /* REQUEST_ID (nginx $request_id), logged */
	const char *body;
	size_t body_len;
	enum eh_body_state body_state;
	int64_t now;                /* seconds since the epoch: tokens' clock */
	/* Random bytes for a token to mint (eh_serve fills them, with
	 * randombytes_buf, for a token request only). */
	unsigned char nonce[EH_OAUTH_NONCE_LEN];
};

enum eh_action {
	EH_ACT_REPLY = 0,  /* send the response as it is */
	EH_ACT_STORE,      /* spool the event, then send the response */
	EH_ACT_HEALTH,     /* check the spool, then answer 200 or 503 */
	EH_ACT_READ        /* authenticated: read the body, eh_handle_body */
};

#define EH_RESPONSE_BODY_MAX 512

struct eh_response {
	int status;
	const char *content_type;   /* static */
	const char *allow;          /* Allow header value or NULL (static) */
	const char *www_authenticate; /* on 401 (static) */
	const char *retry_after;    /* Retry-After value or NULL (static) */
	int no_cache;               /* adds Pragma: no-cache (token responses) */
	char body[EH_RESPONSE_BODY_MAX];
	size_t body_len;
};

struct eh_decision {
	enum eh_action action;
	enum eh_err err;            /* why, when the response is an error */
	enum eh_provider provider;  /* AUTO until the request says which */
	struct eh_response resp;    /* the reply (after a successful store) */
	struct eh_event event;      /* valid when action == EH_ACT_STORE */
	char *body;                 /* the body eh_serve read (owned), or NULL */
	size_t body_len;            /* its length: a token request's is wiped */
	int token_endpoint;         /* a POST to .../oauth/token */
	size_t read_max;            /* EH_ACT_READ: the body's bound, 0: max_body */
	const char *auth;           /* "basic", "token", "oauth", "client" or
	                             * NULL: what authenticated, for the log */
};

/*
 * Decide what to do with req under cfg.  Never touches the spool, the
 * network or the clock.  d owns everything it holds; eh_decision_free
 * releases it and is safe to call twice.  eh_handle is eh_handle_head
 * and, when that says EH_ACT_READ, eh_handle_body on req's body.
 */
enum eh_err eh_handle(struct eh_decision *d, const struct eh_request *req,
    const struct eh_config *cfg);
/*
 * The decision from the method, the URL and the headers alone (method,
 * health check, CONTENT_LENGTH, content type, credentials): a reply, a
 * health check, an AlphaTrust GET to store, or, for an authenticated
 * POST, EH_ACT_READ: read the body (only then), then eh_handle_body.
 * req's body is not looked at.
 */
enum eh_err eh_handle_head(struct eh_decision *d,
    const struct eh_request *req, const struct eh_config *cfg);
/* After EH_ACT_READ: req's body (body, body_len, body_state) decides. */
enum eh_err eh_handle_body(struct eh_decision *d,
    const struct eh_request *req, const struct eh_config *cfg);
void eh_decision_free(struct eh_decision *d);

/* Replace d's response with the error response for err. */
enum eh_err eh_decision_fail(struct eh_decision *d, enum eh_err err);

/*
 * How much of the body to read: on EH_OK, *declared is CONTENT_LENGTH
 * (and *known says whether it was given); over max_body gives
 * EH_ERR_TOO_LARGE without reading.  RFC 3875 4.1.2: plain decimal.
 */
enum eh_err eh_content_length(const char *s, size_t max_body,
    size_t *declared, int *known);

/*
 * Read the body with read_fn (returns bytes read, 0 at end, -1 on error)
 * following CONTENT_LENGTH and max_body; fills req->body, body_len and
 * body_state.  *buf is malloc'd and owned by the caller.
 */
typedef long (*eh_read_fn)(void *ctx, char *buf, size_t len);
enum eh_err eh_read_body(struct eh_request *req, char **buf,
    size_t max_body, eh_read_fn read_fn, void *ctx);

/* ------------------------------------------------------------------ */
/* OAuth 2.0: the token endpoint and Bearer tokens (lib/oauth.c).      */

/* The token-signing key for a client secret: HMAC-SHA256 keyed by the
 * secret over a fixed label, so it is not the comparison digest. */
void eh_oauth_derive(unsigned char key[32], const char *secret, size_t len);

/*
 * "eh1.<expiry>.<nonce>.<mac>" into out: expiry in decimal Unix
 * seconds, nonce and mac (HMAC-SHA256 with key over everything before
 * the last '.') in unpadded base64url.  EH_OK, or EH_ERR_CONFIG when
 * it would not fit.
 */
enum eh_err eh_oauth_mint(char out[EH_OAUTH_TOKEN_MAX],
    const unsigned char key[32], int64_t expiry,
    const unsigned char nonce[EH_OAUTH_NONCE_LEN]);

/*
 * Check a token (the bytes after "Bearer "): EH_OK when it is of our
 * format, its MAC matches one of o's keys (every key tried, constant
 * time) and now <= expiry + EH_OAUTH_SKEW; else EH_ERR_OAUTH_NONE (no
 * client configured), EH_ERR_TOKEN_MALFORMED, EH_ERR_TOKEN_MAC or
 * EH_ERR_TOKEN_EXPIRED (the MAC checked first: an expired forgery is a
 * forgery).  An expiry further ahead than now + EH_OAUTH_MAX_TTL +
 * EH_OAUTH_SKEW is malformed.
 */
enum eh_err eh_oauth_verify(const struct eh_oauth *o, const char *tok,
    size_t len, int64_t now);

/*
 * The token endpoint (RFC 6749 4.4, 2.3.1, 5.1, 5.2), given a POST
 * whose body was read (req->body, body_len; the caller checked
 * body_state): parses the body (application/x-www-form-urlencoded, or
 * multipart/form-data), authenticates the client (Basic header with
 * urlencoded id and secret, or client_id and client_secret in the
 * body, never both), checks grant_type=client_credentials, and mints a
 * token with the key of the secret the client proved (so that removing
 * it revokes the token), expiring req->now + o->ttl_s, from req->nonce.
 * r is filled whole either way: 200 and the token JSON, or the RFC 6749
 * 5.2 error JSON (400, or 401 with WWW-Authenticate: Basic
 * realm="esignhook"); application/json, no_cache set.  Returns what
 * the log line says (EH_OK on success; a body the parsers refuse keeps
 * their cause, e.g. EH_ERR_FIELD_DUP or EH_ERR_MULTIPART, 400 too).
 */
enum eh_err eh_oauth_token(struct eh_response *r,
    const struct eh_request *req, const struct eh_oauth *o);

/*
 * An error response at the token endpoint for err (one of the OAuth
 * errors, or a transport one: 413, 415, 405, 503...): the RFC 6749 5.2
 * JSON for the OAuth ones ({"error":"invalid_request"} for any 400
 * but EH_ERR_OAUTH_GRANT's unsupported_grant_type, invalid_client for
 * a 401; EH_ERR_TOKEN_* give invalid_token and WWW-Authenticate:
 * Bearer error="invalid_token"), eh_strerror's text otherwise (Allow:
 * POST on 405, Retry-After on 503); no_cache set.
 */
void eh_oauth_error(struct eh_response *r, enum eh_err err);

/*
 * multipart/form-data (RFC 7578), strict and bounded like the form
 * decoder: the boundary from content_type (1..70 characters, RFC 2046
 * 5.1.1), at most EH_FORM_MAX_FIELDS parts, each with
 * Content-Disposition: form-data; name="..." and no filename, no
 * Content-Type other than text/plain, no Content-Transfer-Encoding but
 * an identity one (7bit, 8bit, binary); CRLF line ends only; names
 * and values valid UTF-8 without NUL; a name given twice is
 * EH_ERR_FIELD_DUP.  Fills f (eh_form_free frees it) or returns
 * EH_ERR_MULTIPART, EH_ERR_FIELD_DUP, EH_ERR_UTF8, EH_ERR_FORM_NUL,
 * EH_ERR_FORM_LIMIT, EH_ERR_NOMEM (f then holds nothing).
 */
enum eh_err eh_multipart_read(struct eh_form *f, const char *body,
    size_t len, const char *content_type);

/* ------------------------------------------------------------------ */
/* The whole request, with the spool: what cgi/ calls.                 */

#define EH_OUTCOME_PROBLEMS_MAX 384

struct eh_outcome {
	const char *provider;       /* "onespan", "alphatrust" or "-" */
	char event[256];            /* the event's name, "" if none */
	char problems[EH_OUTCOME_PROBLEMS_MAX]; /* the event's problems,
	                             * "; " between them, cut; "" if none */
	char id[EH_ID_LEN + 1];     /* empty if nothing was stored */
	int duplicate;
	enum eh_err err;
	const char *auth;           /* d->auth: "basic", "token", "oauth", ... */
	int sys_errno;              /* errno behind a spool failure */
	const char *sys_op;         /* which spool operation failed */
};

/*
 * Handle req fully: decide from its head; only for an authenticated
 * POST read the body with rd (into d->body, filling req's body fields;
 * rd NULL: req's body is already there); then store or check health
 * through *sp (opened lazily on cfg->spool, reopened after a failure).
 * d holds the response to send; out says what happened, for the log.
 */
void eh_serve(struct eh_decision *d, struct eh_outcome *out,
    struct eh_request *req, const struct eh_config *cfg,
    struct eh_spool *sp, eh_read_fn rd, void *rctx);

/* ------------------------------------------------------------------ */
/* Logging: one logfmt line per request.                               */

/*
 * Append "key=value" to buf (of size cap, used *len), quoting and
 * escaping value so that no input can end the line or forge a field.
 * Truncates (never overflows) when cap is reached.
 */
void eh_logfmt(char *buf, size_t cap, size_t *len, const char *key,
    const char *value);

/*
 * The logger every executable shares: one line per call, to stderr (one
 * write(2), so threads never interleave) or syslog (facility daemon).
 * prio is a syslog(3) priority (LOG_ERR, LOG_WARNING, LOG_INFO).
 */
#define EH_LOG_LINE_MAX 1024
struct eh_log {
	enum eh_log_target target;
	const char *prog;           /* "esignhook", "esignhookctl" (static) */
};
void eh_log_init(struct eh_log *lg, const char *prog,
    enum eh_log_target target);
void eh_log_emit(const struct eh_log *lg, int prio, const char *line);
/* "prog=... level=... msg=..." with msg formatted from fmt. */
void eh_log_msg(const struct eh_log *lg, int prio, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "error", "warn" or "info" for prio. */
const char *eh_log_level(int prio);

/* ------------------------------------------------------------------ */
/* Helpers.                                                            */

/* Write all of buf[0..len) to fd, retrying on EINTR: 0, or -1 (errno). */
int eh_write_all(int fd, const char *buf, size_t len);
/* A thread-safe, constant description of errno value e. */
const char *eh_errno_str(int e);
/*
 * Read fd to its end, at most max bytes, into *buf (malloc'd, with a NUL
 * after the *len bytes).  0, or -1 with errno (EFBIG: more than max),
 * *buf NULL and whatever was read wiped: it may be a secret.
 */
int eh_read_fd(int fd, size_t max, char **buf, size_t *len);

/* Where eh_write_atomic failed, for the caller's message. */
enum eh_wstep {
	EH_WSTEP_CREATE, EH_WSTEP_CHMOD, EH_WSTEP_WRITE, EH_WSTEP_FSYNC,
	EH_WSTEP_CLOSE, EH_WSTEP_RENAME, EH_WSTEP__MAX
};
/*
 * Replace dirfd's name with buf[0..len) whole, mode exactly (whatever
 * the umask): a temporary ".<name>.<pid>" beside it, written, fsynced,
 * renamed over name.  The directory's fsync is the caller's.  0, or -1
 * with errno and *step (step may be NULL); no temporary is left.
 */
int eh_write_atomic(int dirfd, const char *name, const char *buf,
    size_t len, mode_t mode, enum eh_wstep *step);

/* Milliseconds: since the epoch (eh_now_ms), of a monotonic clock. */
int64_t eh_now_ms(void);
int64_t eh_mono_ms(void);

/*
 * The next item of the comma-separated list at *cursor (which starts at
 * the list and is moved on): 1 with the item in *item and *len, blanks
 * around it trimmed (an empty item is returned, empty), or 0 after the
 * last.  "" is one empty item, "a," two.
 */
int eh_list_next(const char **cursor, const char **item, size_t *len);

/* ================================================================== */
/* The operator tool (esignhookctl): configuration, queue, actions.   */
/* ================================================================== */

/*
 * Its keys, read from the same file and environment as the receiver's
 * (eh_config_load).  Durations are in milliseconds.  Strings are owned
 * (NULL when unset); secrets are plaintext, wiped by eh_ctl_config_free.
 */
#define EH_SCHEDULE_MAX 32
#define EH_DEFAULT_ONESPAN_API "https://apps.esignlive.com/api"

struct eh_ctl_config {
	int64_t keep_done_ms;           /* ESIGNHOOK_KEEP_DONE, 7d */
	int64_t seen_keep_ms;           /* ESIGNHOOK_SEEN_KEEP, 30d */
	int64_t schedule_ms[EH_SCHEDULE_MAX]; /* ESIGNHOOK_RETRY_SCHEDULE: */
	size_t schedule_n;              /* waits before attempts 2, 3, ... */
	char *exec;                     /* ESIGNHOOK_EXEC: sh -c command */
	char *exec_events;              /* ESIGNHOOK_EXEC_EVENTS, NULL: "*" */
	int64_t exec_timeout_ms;        /* ESIGNHOOK_EXEC_TIMEOUT, 60s */
	char *forward_url;              /* ESIGNHOOK_FORWARD_URL */
	char *forward_events;           /* ESIGNHOOK_FORWARD_EVENTS, NULL: "*" */
	unsigned char forward_key[256]; /* ESIGNHOOK_FORWARD_SECRET, decoded */
	size_t forward_key_len;         /* 0: no secret, no signature */
	int64_t forward_timeout_ms;     /* ESIGNHOOK_FORWARD_TIMEOUT, 30s */
	char *ca_file;                  /* ESIGNHOOK_CA_FILE: extra CA bundle */
	char *download_dir;             /* ESIGNHOOK_DOWNLOAD_DIR */
	char *download_events;          /* NULL: "PACKAGE_COMPLETE" */
	int download_evidence;          /* ESIGNHOOK_DOWNLOAD_EVIDENCE */
	char *onespan_api;              /* NULL: EH_DEFAULT_ONESPAN_API */
	char *onespan_api_key;          /* ESIGNHOOK_ONESPAN_API_KEY */
	char *onespan_client_id;        /* ESIGNHOOK_ONESPAN_CLIENT_ID */
	char *onespan_client_secret;    /* ESIGNHOOK_ONESPAN_CLIENT_SECRET */
	char *onespan_token_url;        /* NULL: origin of the API + /oauth2/token */
	char *register_key;             /* first of ESIGNHOOK_ONESPAN_KEYS */
	char *nats_url;                 /* ESIGNHOOK_NATS_URL: "nats://h:p,..."; on while set */
	char *nats_events;              /* ESIGNHOOK_NATS_EVENTS, NULL: "*" */
	char *nats_subject;             /* ESIGNHOOK_NATS_SUBJECT, NULL: EH_NATS_DEFAULT_SUBJECT */
	char *nats_stream;              /* ESIGNHOOK_NATS_STREAM, NULL: "ESIGNHOOK" */
	char *nats_creds;               /* ESIGNHOOK_NATS_CREDS: a .creds file */
	char *nats_token;               /* ESIGNHOOK_NATS_TOKEN (secret) */
	char *nats_user;                /* ESIGNHOOK_NATS_USER */
	char *nats_password;            /* ESIGNHOOK_NATS_PASSWORD (secret) */
	char *nats_ca;                  /* ESIGNHOOK_NATS_CA: CA file, TLS on */
	int64_t nats_timeout_ms;        /* ESIGNHOOK_NATS_TIMEOUT, 5s: PubAck wait */
};

#define EH_NATS_DEFAULT_SUBJECT "esign.{provider}.{event}"
#define EH_NATS_DEFAULT_STREAM "ESIGNHOOK"

extern const char *const eh_ctl_config_keys[];
void eh_ctl_config_init(struct eh_ctl_config *c);
void eh_ctl_config_free(struct eh_ctl_config *c);
/* As eh_config_apply, for the tool's keys. */
enum eh_err eh_ctl_config_apply(struct eh_ctl_config *c, eh_lookup_fn lookup,
    void *ctx, const char **badkey);
/*
 * What no one key says (after every source): ESIGNHOOK_NATS_USER and
 * _PASSWORD together, and at most one of _CREDS, _TOKEN, _USER.
 * EH_OK, or EH_ERR_CONFIG with one line in msg naming the keys.
 */
enum eh_err eh_ctl_config_check(const struct eh_ctl_config *c, char *msg,
    size_t msgsz);
/* "250ms", "30s", "5m", "1h", "7d"; a bare number is seconds. */
enum eh_err eh_duration_parse(const char *s, int64_t *ms);
/* ms as eh_duration_parse reads it back: "2m", "15m12s", "1500ms". */
void eh_duration_format(char *buf, size_t sz, int64_t ms);
/* Comma-separated durations into c->schedule_ms; "" is no retry. */
enum eh_err eh_schedule_parse(struct eh_ctl_config *c, const char *s);
/* Whether event is in list ("A,B" or "*"). */
int eh_events_match(const char *list, const char *event);
/* The OneSpan API base URL, without a trailing '/'. */
const char *eh_ctl_onespan_api(const struct eh_ctl_config *c);

/*
 * Defaults, then the file at path (NULL or "": none), then env (the
 * process environment), into cfg and, unless NULL, ctl.  On error, msg
 * holds one line naming the file, line or key, never a value.
 */
enum eh_err eh_config_load(struct eh_config *cfg, struct eh_ctl_config *ctl,
    const char *path, eh_lookup_fn env, void *envctx, char *msg,
    size_t msgsz);

/* ------------------------------------------------------------------ */
/* The queue: folders beside tmp/ new/ seen/, and per-event state.     */

enum eh_folder {
	EH_F_NEW = 0,
	EH_F_CUR,
	EH_F_RETRY,
	EH_F_DONE,
	EH_F_FAILED,
	EH_F__MAX
};
/* "new", "cur", ...; eh_folder_parse returns -1 for another name. */
const char *eh_folder_name(enum eh_folder f);
int eh_folder_parse(const char *name);

/*
 * An event's processing state, in <folder>/<id>.state beside its
 * record (README, "The state file").  No file: all zero.
 */
#define EH_ERROR_MAX 256
struct eh_qstate {
	unsigned attempts;              /* attempts that failed so far */
	int64_t next_at_ms;             /* Unix ms of the next attempt, 0: none */
	char last_error[EH_ERROR_MAX];  /* "" when none */
	unsigned actions_done;          /* bit i: eh_actions[i] succeeded */
	int64_t updated_at_ms;
};
/* Parse / serialise a state file's bytes (JSON, one line). */
enum eh_err eh_qstate_parse(struct eh_qstate *st, const char *buf,
    size_t len);
/* *out is malloc'd, ends in "\n". */
enum eh_err eh_qstate_dump(const struct eh_qstate *st, char **out,
    size_t *len);
/* "2026-11-22T11:36:59.476Z" for ms since the epoch (buf >= 32 bytes). */
void eh_rfc3339(char *buf, size_t bufsz, int64_t ms);
/* Milliseconds since the epoch encoded in an event id, or -1. */
int64_t eh_id_time_ms(const char *id);

/* What one attempt came to. */
enum eh_result {
	EH_RES_OK = 0,                  /* every action done */
	EH_RES_TEMP,                    /* try again later */
	EH_RES_PERM                     /* give up now */
};

/*
 * The queue's one decision, pure: after an attempt (attempts_before
 * failed ones before it) ending in r at now_ms, where does the event go
 * and when is its next attempt?  retry_after_ms (0: none) overrides the
 * schedule's delay, capped at its longest; jitter (in [0.8, 1.2])
 * scales the schedule's delay.
 */
struct eh_next {
	enum eh_folder folder;          /* done, retry or failed */
	int64_t next_at_ms;             /* retry only */
	unsigned attempts;              /* the state's new count */
};
void eh_queue_next(struct eh_next *out, const struct eh_ctl_config *cfg,
    unsigned attempts_before, enum eh_result r, int64_t now_ms,
    int64_t retry_after_ms, double jitter);

/* The spool's folders, open (created 0700 on first use). */
struct eh_queue {
	char *path;
	int dirfd, tmpfd, seenfd;
	int fd[EH_F__MAX];
	int sys_errno;                  /* of the last failure */
	const char *sys_op;
};
void eh_queue_init(struct eh_queue *q);
enum eh_err eh_queue_open(struct eh_queue *q, const char *path);
void eh_queue_close(struct eh_queue *q);

/* The ids in folder f (names "<id>.json"), sorted; free with eh_ids_free. */
enum eh_err eh_queue_ids(struct eh_queue *q, enum eh_folder f, char ***ids,
    size_t *n);
void eh_ids_free(char **ids, size_t n);
/* Which folder holds id: EH_OK and *f, or EH_ERR_FIELD_MISSING. */
enum eh_err eh_queue_find(struct eh_queue *q, const char *id,
    enum eh_folder *f);
/* id's state in folder f (zero when it has none). */
enum eh_err eh_queue_state(struct eh_queue *q, enum eh_folder f,
    const char *id, struct eh_qstate *st);
/* id's record bytes in folder f; *buf malloc'd (NUL-terminated). */
enum eh_err eh_queue_record(struct eh_queue *q, enum eh_folder f,
    const char *id, char **buf, size_t *len);

/*
 * A claimed event: its record file open and flock(2)ed, in cur/.  The
 * lock is the claim: a drainer that can lock a file in cur/ knows its
 * owner died.  eh_queue_finish ends it.
 */
struct eh_claim {
	int fd;                         /* the record, LOCK_EX held */
	char id[256];                   /* a file name less ".json" */
	char *buf;                      /* the record's bytes (owned) */
	size_t len;
	struct eh_qstate st;
};
/*
 * Claim id from folder from (new, retry, or cur for an orphan): lock,
 * check the name still holds the locked file (and, from retry/, that
 * its next attempt is not after due_ms), move record and state to cur/,
 * read the record.  1: claimed; 0: another drainer has it, it is not
 * due or it is gone; 2: it was no record (a symlink, a directory, too
 * large) and went to failed/, c->st saying why; -1: an I/O error
 * (q->sys_op, q->sys_errno).
 */
int eh_queue_claim(struct eh_queue *q, enum eh_folder from, const char *id,
    int64_t due_ms, struct eh_claim *c);
/* Write c->st to cur/<id>.state durably (after an action succeeded). */
int eh_queue_save(struct eh_queue *q, struct eh_claim *c);
/*
 * Move the claimed event from cur/ to folder to (done, retry, failed)
 * with state c->st; with to == done and keep == 0, delete it.  Releases
 * the claim either way.  0, or -1 (the event stays in cur/ for the next
 * drainer).
 */
int eh_queue_finish(struct eh_queue *q, struct eh_claim *c,
    enum eh_folder to, int keep);
/*
 * For the operator (retry, purge): move id from one folder to another,
 * dropping its state (to new/) or keeping it; refused (0) while a
 * drainer holds it.  1 moved, 0 busy or gone, -1 error.
 */
int eh_queue_move(struct eh_queue *q, const char *id, enum eh_folder from,
    enum eh_folder to);
/* Delete id and its state from folder f: 1, 0 busy or gone, -1 error. */
int eh_queue_remove(struct eh_queue *q, const char *id, enum eh_folder f);

/* ------------------------------------------------------------------ */
/* Draining: claim, run the actions, move on (lib/drain.c).            */

/* What became of one event, for the log line and the progress. */
struct eh_drain_report {
	const char *id;
	const char *event;              /* NULL when the record is unreadable */
	const char *action;             /* the failing or last action, or NULL */
	enum eh_folder folder;          /* done, retry, failed; cur: not moved */
	unsigned attempt;               /* 1 for the first */
	long ms;
	const char *error;              /* NULL when none */
	size_t index, total;            /* the N of M of this pass */
};

struct eh_drain {
	const struct eh_config *rcfg;
	const struct eh_ctl_config *cfg;
	struct eh_queue *q;
	struct eh_http *http;           /* NULL: no HTTP action on */
	struct eh_onespan *onespan;     /* NULL: download off */
	struct eh_nats *nats;           /* NULL: publish off */
	const char *const *base_env;    /* PATH, HOME, LANG for exec */
	void (*report)(void *ctx, const struct eh_drain_report *r);
	int (*stop)(void *ctx);         /* asked between events; may be NULL */
	void *ctx;
};

struct eh_drain_totals {
	unsigned long done, retry, failed;
	unsigned long stuck;            /* could not be moved out of cur/ */
};

/*
 * One pass: every event due at the start of it (orphans in cur/, new/
 * oldest first, retry/ whose time has come), each claimed, run and
 * moved.  *next_due_ms gets the earliest next attempt still waiting in
 * retry/, those this pass sent there included (0: none).  0, or -1 when
 * the spool cannot be read.
 */
int eh_drain_pass(struct eh_drain *d, struct eh_drain_totals *t,
    int64_t *next_due_ms);
/*
 * Housekeeping: done/ older than ESIGNHOOK_KEEP_DONE, tmp/ files whose
 * writer is gone or older than 36 h, seen/ markers older than
 * ESIGNHOOK_SEEN_KEEP.  Returns how many files went.
 */
unsigned long eh_drain_prune(struct eh_drain *d, int64_t now_ms);

/*
 * Spool one event given by hand (a OneSpan JSON body or an AlphaTrust
 * form) through the receiver's parsers and eh_spool_put, with no
 * remote address.  As eh_spool_put: a OneSpan event already received
 * sets *dup and stores nothing (lib/inject.c).
 */
enum eh_err eh_inject(struct eh_spool *sp, enum eh_provider provider,
    const char *buf, size_t len, char id[EH_ID_LEN + 1], int *dup);

/* ------------------------------------------------------------------ */
/* Looking at the spool (lib/view.c).                                  */

/*
 * An age or a wait for people: "5s", "3m", "2h", "4d" (whole units,
 * rounded down) into buf (16 bytes are enough); "-" when ms < 0.
 */
void eh_view_age(char *buf, size_t bufsz, int64_t ms);

/*
 * One event as list sees it: owned copies (NULL when unknown: a record
 * that eh_record_parse refuses still gets an entry).
 */
struct eh_view_entry {
	char *id;
	enum eh_folder folder;
	char *provider;
	char *event;
	char *transaction_id;
	char *received_at;
	struct eh_qstate st;
};
/* Fill e from id's record bytes (rec may be NULL: unreadable) and st. */
enum eh_err eh_view_entry_make(struct eh_view_entry *e, const char *id,
    enum eh_folder f, const char *rec, size_t len,
    const struct eh_qstate *st);
/*
 * Read id's record and state from folder f into e: EH_OK (an unreadable
 * record or state still gives an entry), EH_ERR_FIELD_MISSING when the
 * record is no longer there, EH_ERR_NOMEM.
 */
enum eh_err eh_view_entry_load(struct eh_view_entry *e, struct eh_queue *q,
    enum eh_folder f, const char *id);
/* Free what e owns; safe to call twice. */
void eh_view_entry_free(struct eh_view_entry *e);

/*
 * list --json: one object and "\n", with exactly id, folder, provider,
 * event, transaction_id, received_at, attempts, next_attempt_at,
 * last_error.  *out malloc'd.
 */
enum eh_err eh_view_entry_json(char **out, const struct eh_view_entry *e);
/*
 * list for people: a header line, then a line per entry, columns
 * aligned (a cell over 40 characters widens only its line); control
 * characters shown as \u00XX.  Ages are from the ids, at now_ms.
 */
enum eh_err eh_view_table(char **out, const struct eh_view_entry *e,
    size_t n, int64_t now_ms);

/*
 * show: id's record bytes rec[0..len) (NULL: unreadable) in folder f
 * with state st.  --json: {"folder", "record" (the object, or null
 * when the bytes are not one), "attempts", "next_attempt_at",
 * "last_error", "actions_done"} and "\n".  For people: the state as
 * aligned lines, then the record pretty-printed.  *out malloc'd.
 */
enum eh_err eh_view_show_json(char **out, enum eh_folder f, const char *rec,
    size_t len, const struct eh_qstate *st);
enum eh_err eh_view_show_text(char **out, const char *id, enum eh_folder f,
    const char *rec, size_t len, const struct eh_qstate *st,
    int64_t now_ms);

/* stats: what the spool holds. */
struct eh_view_stats {
	unsigned long events[EH_F__MAX];        /* per folder */
	int64_t oldest_waiting_s;       /* in new/ or retry/, by id; 0: none */
	unsigned long long free_bytes;  /* f_bavail * f_frsize */
};
/* Count q's folders at now_ms; EH_ERR_SPOOL_IO (q->sys_op) or EH_OK. */
enum eh_err eh_view_stats(struct eh_view_stats *s, struct eh_queue *q,
    int64_t now_ms);
/* For people (aligned lines), --json (one line), --prometheus (the text
 * exposition format, promtool-clean).  *out malloc'd. */
enum eh_err eh_view_stats_text(char **out, const struct eh_view_stats *s);
enum eh_err eh_view_stats_json(char **out, const struct eh_view_stats *s);
enum eh_err eh_view_stats_prom(char **out, const struct eh_view_stats *s);

/*
 * purge --older-than: the ids in folder f whose record file changed
 * (ctime: moved there) at least min_age_ms before now_ms, sorted; free
 * with eh_ids_free.
 */
enum eh_err eh_view_older(struct eh_queue *q, enum eh_folder f,
    int64_t min_age_ms, int64_t now_ms, char ***ids, size_t *n);

/*
 * Replace the file at path with buf[0..len) atomically (a reader sees
 * the old file or the new one, never half): a temporary ".<name>.<pid>"
 * beside it, mode 0644 (for another user, e.g. node exporter), fsync,
 * rename, fsync the directory.  0, or -1 with errno set and *op naming
 * the step (static).
 */
int eh_view_write_file(const char *path, const char *buf, size_t len,
    const char **op);

/* ------------------------------------------------------------------ */
/* HTTP client (lib/http.c: the only module that uses libcurl).        */

struct eh_http;
/* A client; ca_file (NULL: system CAs only) adds a CA bundle. */
int eh_http_new(struct eh_http **h, const char *ca_file);
void eh_http_free(struct eh_http *h);

struct eh_http_req {
	const char *method;             /* "GET", "POST" */
	const char *url;
	const char *const *headers;     /* "Name: value", NULL-terminated */
	const char *body;               /* POST body, or NULL */
	size_t body_len;
	int64_t timeout_ms;             /* the whole transfer */
	int out_fd;                     /* >= 0: write the body here */
	size_t max_body;                /* with out_fd: write at most this
	                                 * (0: no bound); else capture at
	                                 * most this (0: drop the body) */
};
struct eh_http_resp {
	long status;                    /* 0: no response */
	int transport;                  /* no response: timeout, TLS, refused */
	char error[EH_ERROR_MAX];       /* why, one line, no secret */
	long retry_after_s;             /* Retry-After in seconds, -1: none */
	char *body;                     /* captured body (owned) or NULL */
	size_t body_len;
	size_t written;                 /* bytes written to out_fd */
	int too_large;                  /* -1: the body passed max_body */
};
/* 0 when a response arrived (any status); -1 otherwise (resp->error). */
int eh_http_do(struct eh_http *h, const struct eh_http_req *req,
    struct eh_http_resp *resp);
void eh_http_resp_free(struct eh_http_resp *resp);
/* 2xx OK; 408, 425, 429, 3xx, 5xx TEMP; other 4xx PERM; 0 TEMP. */
enum eh_result eh_http_classify(long status);

/* ------------------------------------------------------------------ */
/* OneSpan Sign's REST API: credentials, token cache (lib/osapi.c).    */

struct eh_onespan;
/* Borrows cfg and http, which must outlive it. */
int eh_onespan_new(struct eh_onespan **api, const struct eh_ctl_config *cfg,
    struct eh_http *http);
void eh_onespan_free(struct eh_onespan *api);
/*
 * method {api}{path} with the account's credentials: the API key as
 * Basic, or a client-credentials token as Bearer (fetched, reused until
 * five minutes before it expires, fetched again once on a 401).
 * Returns as eh_http_do; req->url and the Authorization header are
 * filled in here.
 */
int eh_onespan_call(struct eh_onespan *api, const char *path,
    struct eh_http_req *req, struct eh_http_resp *resp);

/* ------------------------------------------------------------------ */
/* Actions: download, exec, forward, publish; one interface each.     */

struct eh_job {
	const struct eh_config *rcfg;   /* the receiver's keys (min free) */
	const struct eh_ctl_config *cfg;
	const struct eh_record *rec;    /* the parsed record */
	const char *record;             /* its exact bytes */
	size_t record_len;
	unsigned attempt;               /* 1 for the first */
	const char *download_path;      /* the zip, once download ran; or NULL */
	const char *const *base_env;    /* PATH, HOME, LANG: eh_exec_env */
	struct eh_http *http;           /* NULL when no HTTP action is on */
	struct eh_onespan *onespan;     /* NULL when download is off */
	struct eh_nats *nats;           /* NULL when publish is off */
	char error[EH_ERROR_MAX];       /* out: one line, no secret */
	int64_t retry_after_ms;         /* out: a Retry-After, 0: none */
};

struct eh_action_def {
	const char *name;               /* in the state's actions_done */
	/* The event list when the action is on, NULL when off. */
	const char *(*events)(const struct eh_ctl_config *cfg);
	enum eh_result (*run)(struct eh_job *job);
};
/* download, exec, forward, publish, in that order; ends with a NULL name. */
extern const struct eh_action_def eh_actions[];

/* exec: sh -c ESIGNHOOK_EXEC, record on stdin (lib/exec.c). */
enum eh_result eh_exec_run(struct eh_job *job);
/*
 * The child's whole environment for job: ESIGNHOOK_EVENT_ID, _EVENT,
 * _PROVIDER, _TRANSACTION_ID (each when known), _ATTEMPT,
 * _DOWNLOAD_PATH (when set), then PATH (default
 * "/usr/local/bin:/usr/bin:/bin"), HOME and LANG from job->base_env
 * (the tool's "NAME=value" entries, NULL-terminated, or NULL; only
 * those three names are taken, the first of each); nothing else.  A
 * malloc'd NULL-terminated array of malloc'd "NAME=value" strings, or
 * NULL (no memory); eh_exec_env_free frees it.
 */
char **eh_exec_env(const struct eh_job *job);
void eh_exec_env_free(char **env);

/* forward: POST with Standard Webhooks headers (lib/forward.c). */
enum eh_result eh_forward_run(struct eh_job *job);
/* "v1,<base64 HMAC-SHA256(key, id "." ts "." body)>" into out. */
#define EH_WEBHOOK_SIG_MAX 64
void eh_webhook_sign(char out[EH_WEBHOOK_SIG_MAX], const unsigned char *key,
    size_t keylen, const char *id, long long ts, const char *body,
    size_t len);

/*
 * publish: NATS JetStream (lib/nats.c, the tool's only libnats user).
 * A connection (with its JetStream context) lives across a drain; it
 * reconnects by itself, and a publish with no server reachable is a
 * temporary failure, never a hang past cfg->nats_timeout_ms.
 */
struct eh_nats;
/*
 * Connect to cfg->nats_url with cfg's credentials and TLS; a server
 * that is down is no error here (the connection retries in the
 * background).  EH_OK, or EH_ERR_CONFIG/EH_ERR_NOMEM with one line in
 * msg (no secret).
 */
enum eh_err eh_nats_open(struct eh_nats **n, const struct eh_ctl_config *cfg,
    char *msg, size_t msgsz);
void eh_nats_close(struct eh_nats *n);
/*
 * The record's exact bytes to the stream, subject from the template,
 * headers Nats-Msg-Id: <id>, Esignhook-Event, Esignhook-Provider; OK
 * only on the stream's PubAck (a duplicate PubAck is OK too).
 */
enum eh_result eh_publish_run(struct eh_job *job);
/*
 * The subject for rec from tmpl ({provider}, {event}, {transaction_id};
 * a missing value is "_"), every byte a subject token cannot hold
 * (space, '.', '*', '>', controls, non-ASCII: one '_' for a whole UTF-8
 * character) inside a value replaced by '_', a value cut at 128 bytes.
 * malloc'd, or NULL (no memory, or an unknown {placeholder}).
 */
char *eh_nats_subject(const char *tmpl, const struct eh_record *rec);
/*
 * From a template (as ESIGNHOOK_NATS_SUBJECT checks it): the subjects a
 * stream needs, the literal tokens before the first token holding a
 * placeholder and ">" ("esign.>"; the template itself when it has no
 * placeholder), or NULL when the first token holds one; and the pattern
 * of every subject it makes, each such token as "*" ("esign.*.*").
 * malloc'd, or NULL (also: not a valid template).
 */
char *eh_nats_stream_subject(const char *tmpl);
char *eh_nats_subject_pattern(const char *tmpl);
/* Whether every subject that pattern matches matches filter too (both
 * may hold wildcards): "esign.>" covers "esign.*.*". */
int eh_nats_subject_covers(const char *filter, const char *pattern);
/* A stream or consumer name: printable ASCII, no blank, '.', '*',
 * '>', '/', '\\', 1 to EH_NATS_NAME_MAX bytes. */
#define EH_NATS_NAME_MAX 128
int eh_nats_name_ok(const char *name);
/*
 * Release libnats's threads and memory, after every eh_nats_close (the
 * tool's exit), so that leak checkers see none: unless cfg used TLS,
 * where libnats's teardown breaks OpenSSL's own at exit (a crash in
 * OPENSSL_cleanup once libcurl has initialised OpenSSL).
 */
void eh_nats_shutdown(const struct eh_ctl_config *cfg);

/*
 * nats-setup: create cfg's stream (eh_nats_stream_subject's subjects,
 * file storage, replicas, duplicate window dup_window_ms) or check the
 * one there: its subjects must cover the template's pattern, its
 * window be at least dup_window_ms (eh_nats_dup_window's, unless the
 * operator asked for another), its retention limits and PubAcks on
 * (not no_ack); limits with discard old are a warning line; replicas
 * 0: not asked, not compared.  What it found and did goes to line(), a line per call.
 * EH_NATS_SETUP_ERROR leaves one line in msg.
 */
enum eh_nats_setup_result {
	EH_NATS_SETUP_CREATED = 0,
	EH_NATS_SETUP_OK,               /* there, compatible */
	EH_NATS_SETUP_INCOMPATIBLE,     /* there, not fit: line() says why */
	EH_NATS_SETUP_ERROR
};
enum eh_nats_setup_result eh_nats_setup(struct eh_nats *n, int64_t replicas,
    int64_t dup_window_ms, void (*line)(void *ctx, const char *line),
    void *ctx, char *msg, size_t msgsz);

/*
 * consume: a durable pull consumer on cfg's stream; each message's
 * payload is a record, run through the exec action (cfg->exec) and
 * settled by eh_consume_decide.
 */
enum eh_consume_verdict {
	EH_CONSUME_ACK = 0,             /* done: gone for this consumer */
	EH_CONSUME_TERM,                /* never again: 100, unreadable, last */
	EH_CONSUME_NAK                  /* again after delay_ms */
};
struct eh_consume_decision {
	enum eh_consume_verdict verdict;
	int64_t delay_ms;               /* NAK only */
	int last;                       /* TERM because deliveries ran out */
};
/*
 * The one decision, pure: the exec's result r (parsed 0: the payload is
 * no record, r unused) at delivery number delivered (1 for the first).
 * OK acks, PERM terminates; TEMP naks with the schedule's wait before
 * the next delivery (times jitter, in [0.8, 1.2]; 0: none), or, after
 * delivery schedule_n + 1 (the consumer's MaxDeliver), terminates.
 */
void eh_consume_decide(struct eh_consume_decision *d,
    const struct eh_ctl_config *cfg, enum eh_result r, int parsed,
    uint64_t delivered, double jitter);
/* "ack", "term", "nak". */
const char *eh_consume_verdict_name(enum eh_consume_verdict v);

#define EH_NATS_DEFAULT_DURABLE "esignhook"

/*
 * The duplicate window cfg's retry schedule needs: a re-publication
 * comes at most the schedule's total later (each wait stretched by the
 * drainer's jitter, up to a fifth), plus EH_NATS_DUP_WINDOW_MIN_MS for
 * a drainer's crash and restart; whole seconds, at most
 * EH_NATS_DUP_WINDOW_MAX_MS (JetStream keeps every id of the window in
 * memory), *capped then 1: beyond the window a re-publication could be
 * stored twice.
 */
#define EH_NATS_DUP_WINDOW_MIN_MS (2LL * 60 * 1000)
#define EH_NATS_DUP_WINDOW_MAX_MS (7LL * 24 * 3600 * 1000)
int64_t eh_nats_dup_window(const struct eh_ctl_config *cfg, int *capped);
/*
 * Whether cfg's stream, asked now if the connection is up, has a
 * duplicate window shorter than eh_nats_dup_window's: 1 with one
 * warning line in msg; 0 (also: not connected, no stream) with "".
 */
int eh_nats_window_warning(struct eh_nats *n, char *msg, size_t msgsz);
/*
 * Whether a payload eh_record_parse refused with e is no record (to be
 * terminated), rather than a failure of this consumer's (out of
 * memory: nak'd for another try).  0 for EH_OK.
 */
int eh_consume_unreadable(enum eh_err e);

struct eh_consume_report {
	const char *id;                 /* NULL: no record */
	const char *event, *provider;
	uint64_t delivered;
	enum eh_consume_verdict verdict;
	int last;                       /* terminated: deliveries ran out */
	int64_t delay_ms;               /* nak */
	long ms;
	const char *error;              /* the exec's, the settling's; NULL */
	int settled;                    /* the server took the ack/nak/term */
};
struct eh_consume_totals {
	unsigned long acked, termed, naked, failed; /* failed: settling */
};
struct eh_consume {
	const struct eh_config *rcfg;
	const struct eh_ctl_config *cfg; /* cfg->exec: the command */
	const char *durable;            /* NULL: EH_NATS_DEFAULT_DURABLE */
	const char *subject;            /* filter; NULL: the whole stream */
	const char *const *base_env;    /* PATH, HOME, LANG for exec */
	void (*report)(void *ctx, const struct eh_consume_report *r);
	void *ctx;
};
struct eh_consumer;
/*
 * Create (or update to c's settings) the durable consumer: explicit
 * ack, AckWait past ESIGNHOOK_EXEC_TIMEOUT, MaxDeliver schedule_n + 1;
 * and subscribe to it.  c is borrowed for the consumer's life.
 * EH_OK, or EH_ERR_CONFIG (one line in msg).  On EH_OK msg may hold a
 * warning: the durable was there with other settings (AckWait,
 * MaxDeliver, FilterSubject), now brought to these (the latest start
 * wins, for every process sharing it).
 */
enum eh_err eh_consume_open(struct eh_consumer **cs, struct eh_nats *n,
    const struct eh_consume *c, char *msg, size_t msgsz);
/*
 * Fetch one message (waiting at most wait_ms) and see it through:
 * exec, then ack (confirmed), term or nak; c->report hears of it.
 * 1 one handled, 0 none came, -1 the fetch failed (msg; the
 * connection may come back), -2 the connection is closed for good
 * (refused credentials or TLS; msg).
 */
int eh_consume_next(struct eh_consumer *cs, int64_t wait_ms,
    struct eh_consume_totals *t, char *msg, size_t msgsz);
void eh_consume_close(struct eh_consumer *cs);

/* download: OneSpan's signed documents (lib/download.c). */
enum eh_result eh_download_run(struct eh_job *job);
/* The file name for a packageId: letters, digits, "-._~=" kept, every
 * other byte and a leading '.' as %XX.  malloc'd, or NULL (no memory,
 * or an empty packageId). */
char *eh_download_name(const char *package_id);
/*
 * The longest name eh_download_run accepts (longer: a permanent
 * failure): with ".evidence.pdf", or its temporary ".<name>.<pid>.<r>",
 * a file name stays within NAME_MAX (255).
 */
#define EH_DOWNLOAD_NAME_MAX 240
/* dir/<name>.zip for the package; malloc'd, or NULL (no memory, no
 * ESIGNHOOK_DOWNLOAD_DIR, or a name over EH_DOWNLOAD_NAME_MAX). */
char *eh_download_path(const struct eh_ctl_config *cfg,
    const char *package_id);
/* Every byte outside A-Za-z0-9-._~ as %XX, for a URL path; malloc'd. */
char *eh_url_escape(const char *s);

/* ------------------------------------------------------------------ */
/* OneSpan callback registration (lib/register.c).                     */

/* Every OneSpan event the receiver knows, NULL-terminated (onespan.c). */
extern const char *const eh_onespan_event_names[];
/*
 * {"url":url,"key":key,"events":[events...]} (no "key" when key is
 * NULL) into *out, malloc'd; it holds the key: wipe it after use.
 * 0, or -1 (no memory, or a string that is not UTF-8).
 */
int eh_register_body(char **out, const char *url, const char *key,
    const char *const *events, size_t n);
/*
 * OneSpan's reply json[0..len), pretty-printed (2-space indent, no
 * final newline) with every "key" member's value masked: "****" and
 * its last 4 characters, or "****" alone for a key under 12
 * characters.  *out malloc'd.  0, or -1 (not a JSON object, no memory).
 */
int eh_register_mask(char **out, const char *json, size_t len);
/* POST {api}/callback with body (JSON); returns as eh_onespan_call. */
int eh_register_post(struct eh_onespan *api, const char *body, size_t len,
    struct eh_http_resp *resp);
/* GET {api}/callback: the registration OneSpan holds. */
int eh_register_show(struct eh_onespan *api, struct eh_http_resp *resp);

#endif /* ESIGNHOOK_H */
