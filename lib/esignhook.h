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
	EH_ERR_READ,            /* reading the body failed (400) */
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
};

#define EH_DEFAULT_MAX_BODY 65536
#define EH_DEFAULT_MAX_EVENTS 100000UL
#define EH_DEFAULT_MIN_FREE (64ULL * 1024 * 1024)
#define EH_DEFAULT_THREADS 8

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
 * Decode buf[0..len) into form.  Rejects bad %-escapes, a decoded NUL,
 * invalid UTF-8, a name given twice, an empty name, and more than
 * EH_FORM_MAX_FIELDS fields.  On error the form is left empty.
 */
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
	char *name;            /* OneSpan name or AlphaTrust EventType, owned */
	int known;             /* named in the provider's documents */
	char *transaction_id;  /* packageId or TransID, owned */
	char *data;            /* the "data" JSON object, serialised, owned */
	size_t data_len;
	char dedupe_key[65];   /* hex SHA-256 over provider and data */
};
void eh_event_free(struct eh_event *ev);

/*
 * OneSpan Sign: body is the JSON object OneSpan POSTs.  On success ev
 * owns copies; data is the received bytes unchanged.
 */
enum eh_err eh_onespan_parse(struct eh_event *ev, const char *body,
    size_t len);
/* Whether name is a OneSpan event named in its documents. */
int eh_onespan_known(const char *name);

/*
 * AlphaTrust e-Sign: form holds the decoded fields; a field named skip
 * (our URL token parameter, or NULL) is left out of data.
 */
enum eh_err eh_alphatrust_parse(struct eh_event *ev,
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
	const char *event;
	int known_event;
	const char *transaction_id;
	const char *dedupe_key;
	const char *remote_addr; /* NULL if not recorded */
	void *data;            /* json_t *, borrowed from json */
};
enum eh_err eh_record_parse(struct eh_record *rec, const char *buf,
    size_t len);
void eh_record_free(struct eh_record *rec);

/* ------------------------------------------------------------------ */
/* The spool: maildir discipline, tmp/ -> fsync -> new/ -> fsync dir.  */

struct eh_spool {
	char *path;
	int dirfd, tmpfd, newfd, seenfd;
	struct timespec last;        /* last id time, keeps ids increasing */
	unsigned long count;         /* events in new/ at count_at */
	struct timespec count_at;
	int counted;
	unsigned count_sample;       /* count on 1 in N admits (0: always);
	                              * for CGI, where nothing is cached */
	char host[33];               /* this host, for tmp/ names */
	long pid;                    /* this process, for tmp/ names */
	int sys_errno;               /* errno of the last failure, for logs */
	const char *sys_op;          /* which operation failed (static) */
};

#define EH_SPOOL_STALE_SECONDS (36 * 3600)

/* Make sp a closed handle: nothing owned, every descriptor -1. */
void eh_spool_init(struct eh_spool *sp);
/*
 * Open (creating 0700 directories as needed) the spool at path.  The
 * handle owns its descriptors; eh_spool_close releases them and is safe
 * to call twice.
 */
enum eh_err eh_spool_open(struct eh_spool *sp, const char *path);
void eh_spool_close(struct eh_spool *sp);
/* Whether sp is open and none of its directories has been removed. */
int eh_spool_alive(const struct eh_spool *sp);

/*
 * Check that sp can take one more event under cfg's limits: room on
 * disk, and at most max_events waiting in new/.
 */
enum eh_err eh_spool_admit(struct eh_spool *sp, const struct eh_config *cfg);

/*
 * Store ev durably: on EH_OK the record is in new/<id>.json and new/
 * has been fsynced.  On error nothing is left in new/ and tmp/.
 * For OneSpan, a dedupe_key already seen sets *dup and stores nothing.
 * id receives the event's identifier (or the first one's, for a dup).
 */
enum eh_err eh_spool_put(struct eh_spool *sp, const struct eh_event *ev,
    const char *remote_addr, char id[EH_ID_LEN + 1], int *dup);

/*
 * Remove tmp/ files older than max_age seconds, and those whose writer
 * (".<host>.<pid>" at the end of the name) was on this host and no
 * longer runs; returns how many.
 */
unsigned long eh_spool_clean_tmp(struct eh_spool *sp, time_t max_age);

/* Whether a record-sized file can be written in tmp/ now. */
enum eh_err eh_spool_probe(struct eh_spool *sp);
/* The health check: eh_spool_admit's limits hold and the probe works. */
enum eh_err eh_spool_health(struct eh_spool *sp, const struct eh_config *cfg);

/* Count the events waiting in new/ (dot-files skipped). */
enum eh_err eh_spool_count(struct eh_spool *sp, unsigned long *n);

/* ------------------------------------------------------------------ */
/* Request handling: a pure function from request to decision.         */

enum eh_body_state {
	EH_BODY_OK = 0,   /* body/body_len hold the whole body */
	EH_BODY_UNREAD,   /* not read: CONTENT_LENGTH bad or over the limit */
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
};

enum eh_action {
	EH_ACT_REPLY = 0,  /* send the response as it is */
	EH_ACT_STORE,      /* spool the event, then send the response */
	EH_ACT_HEALTH      /* check the spool, then answer 200 or 503 */
};

#define EH_RESPONSE_BODY_MAX 288

struct eh_response {
	int status;
	const char *content_type;   /* static */
	const char *allow;          /* Allow header value or NULL (static) */
	const char *www_authenticate; /* on 401 (static) */
	const char *retry_after;    /* Retry-After value or NULL (static) */
	char body[EH_RESPONSE_BODY_MAX];
	size_t body_len;
};

struct eh_decision {
	enum eh_action action;
	enum eh_err err;            /* why, when the response is an error */
	enum eh_provider provider;  /* AUTO until the request says which */
	struct eh_response resp;    /* the reply (after a successful store) */
	struct eh_event event;      /* valid when action == EH_ACT_STORE */
};

/*
 * Decide what to do with req under cfg.  Never touches the spool, the
 * network or the clock.  d owns everything it holds; eh_decision_free
 * releases it and is safe to call twice.
 */
enum eh_err eh_handle(struct eh_decision *d, const struct eh_request *req,
    const struct eh_config *cfg);
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
/* The whole request, with the spool: what cgi/ calls.                 */

struct eh_outcome {
	const char *provider;       /* "onespan", "alphatrust" or "-" */
	char event[256];            /* the event's name, "" if none */
	char id[EH_ID_LEN + 1];     /* empty if nothing was stored */
	int duplicate;
	enum eh_err err;
	int sys_errno;              /* errno behind a spool failure */
	const char *sys_op;         /* which spool operation failed */
};

/*
 * Handle req fully: decide, then store or check health through *sp
 * (opened lazily on cfg->spool, reopened after a failure).  d holds
 * the response to send; out says what happened, for the log line.
 */
void eh_serve(struct eh_decision *d, struct eh_outcome *out,
    const struct eh_request *req, const struct eh_config *cfg,
    struct eh_spool *sp);

/* ------------------------------------------------------------------ */
/* Logging: one logfmt line per request.                               */

/*
 * Append "key=value" to buf (of size cap, used *len), quoting and
 * escaping value so that no input can end the line or forge a field.
 * Truncates (never overflows) when cap is reached.
 */
void eh_logfmt(char *buf, size_t cap, size_t *len, const char *key,
    const char *value);

/* ------------------------------------------------------------------ */
/* Helpers.                                                            */

/* Write all of buf[0..len) to fd, retrying on EINTR: 0, or -1 (errno). */
int eh_write_all(int fd, const char *buf, size_t len);

#endif /* ESIGNHOOK_H */
