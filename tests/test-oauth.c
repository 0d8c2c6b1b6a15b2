/*
 * lib/oauth.c: the Bearer token format (mint, verify: expiry, tampering
 * with every part, wrong and rotated secrets) and the token endpoint
 * (both client authentications, both body types, each error row).
 */
#include <stdint.h>
#include <stdlib.h>

#include <sodium.h>

#include "../lib/esignhook.h"
#include "t.h"

#define ID "onespan-client"
/* A secret with what RFC 6749 2.3.1's urlencoding must carry. */
#define S1 "p:a%s+s w/rd"
#define S1_ENC "p%3Aa%25s%2Bs+w%2Frd"
#define S2 "old-secret"
#define NOW INT64_C(1700000000)
#define TTL 3600

/* A client as lib/config.c would fill it, with up to 3 secrets. */
struct client {
	struct eh_oauth o;
	unsigned char digest[3][32];
	unsigned char key[3][32];
};

static void
client(struct client *c, const char *id, const char *a, const char *b,
    int64_t ttl)
{
	const char *s[2] = { a, b };
	size_t i;

	memset(c, 0, sizeof(*c));
	c->o.client_id = (char *)id;
	c->o.secrets.digest = c->digest;
	c->o.mac_key = c->key;
	c->o.ttl_s = ttl;
	for (i = 0; i < 2 && s[i] != NULL; i++) {
		crypto_hash_sha256(c->digest[i], (const unsigned char *)s[i],
		    strlen(s[i]));
		eh_oauth_derive(c->key[i], s[i], strlen(s[i]));
		c->o.secrets.n++;
	}
}

static const unsigned char nonce[EH_OAUTH_NONCE_LEN] = {
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
};

static void
mint(char tok[EH_OAUTH_TOKEN_MAX], const char *secret, int64_t expiry)
{
	unsigned char key[32];

	eh_oauth_derive(key, secret, strlen(secret));
	T_EQ_INT(eh_oauth_mint(tok, key, expiry, nonce), EH_OK);
}

static enum eh_err
verify(const struct client *c, const char *tok, int64_t now)
{
	return eh_oauth_verify(&c->o, tok, strlen(tok), now);
}

/* Computed apart (Python's hmac and base64) from the documented format:
 * key = HMAC-SHA256(secret, label), MAC over "eh1.<expiry>.<nonce>". */
static void
known_answer(void)
{
	static const char want[] = "eh1.1700003600.AAECAwQFBgcICQoLDA0ODw."
	    "v26YTkg1eYQMddMp3UyEjhm6o9cNgNULR92z10afngM";
	unsigned char key[32];
	char tok[EH_OAUTH_TOKEN_MAX], hex[65];

	eh_oauth_derive(key, S1, strlen(S1));
	sodium_bin2hex(hex, sizeof(hex), key, sizeof(key));
	T_EQ_STR(hex, "cdf1f61a47bf0795deeca3df8ec6ba9a"
	    "14b4bc992f33240104537c23f0ddc199");
	T_EQ_INT(eh_oauth_mint(tok, key, NOW + TTL, nonce), EH_OK);
	T_EQ_STR(tok, want);
	/* The longest expiry still fits. */
	T_EQ_INT(eh_oauth_mint(tok, key, INT64_MAX, nonce), EH_OK);
	T_EQ_INT(strlen(tok), 4 + 19 + 1 + 22 + 1 + 43);
	T_EQ_INT(eh_oauth_mint(tok, key, -1, nonce), EH_ERR_CONFIG);
	T_EQ_STR(tok, "");
}

static void
expiry(void)
{
	static const struct {
		int64_t now;
		enum eh_err err;
	} rows[] = {
		{ NOW, EH_OK },
		{ NOW + TTL - 1, EH_OK },
		{ NOW + TTL, EH_OK },
		{ NOW + TTL + EH_OAUTH_SKEW, EH_OK },
		{ NOW + TTL + EH_OAUTH_SKEW + 1, EH_ERR_TOKEN_EXPIRED },
		{ INT64_MAX, EH_ERR_TOKEN_EXPIRED },
		/* A clock behind the minter's, within a day and the skew. */
		{ NOW + TTL - EH_OAUTH_MAX_TTL - EH_OAUTH_SKEW, EH_OK },
		{ NOW + TTL - EH_OAUTH_MAX_TTL - EH_OAUTH_SKEW - 1,
		  EH_ERR_TOKEN_MALFORMED },
		{ INT64_MIN, EH_ERR_TOKEN_MALFORMED },
	};
	struct client c;
	char tok[EH_OAUTH_TOKEN_MAX];
	size_t i;

	client(&c, ID, S1, NULL, TTL);
	mint(tok, S1, NOW + TTL);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (verify(&c, tok, rows[i].now) != rows[i].err)
			fprintf(stderr, "  row %zu\n", i);
		T_EQ_INT(verify(&c, tok, rows[i].now), rows[i].err);
	}
	/* A far-future expiry is no token of ours, even well signed. */
	mint(tok, S1, NOW + EH_OAUTH_MAX_TTL + EH_OAUTH_SKEW);
	T_EQ_INT(verify(&c, tok, NOW), EH_OK);
	mint(tok, S1, NOW + EH_OAUTH_MAX_TTL + EH_OAUTH_SKEW + 1);
	T_EQ_INT(verify(&c, tok, NOW), EH_ERR_TOKEN_MALFORMED);
	mint(tok, S1, INT64_MAX);
	T_EQ_INT(verify(&c, tok, NOW), EH_ERR_TOKEN_MALFORMED);
	T_EQ_INT(verify(&c, tok, INT64_MAX), EH_OK);
	/* An expired forgery is a forgery. */
	mint(tok, "forged", NOW);
	T_EQ_INT(verify(&c, tok, NOW + 86400), EH_ERR_TOKEN_MAC);
}

/* Every byte changed in every way that keeps or breaks the shape. */
static void
tamper_bytes(void)
{
	static const char subst[] = "0189AZaz_-.+/=% \x80";
	struct client c;
	char tok[EH_OAUTH_TOKEN_MAX], t[EH_OAUTH_TOKEN_MAX];
	size_t i, k, len, bad = 0;
	enum eh_err err;

	client(&c, ID, S1, NULL, TTL);
	mint(tok, S1, NOW + TTL);
	len = strlen(tok);
	for (i = 0; i < len; i++) {
		for (k = 0; k <= sizeof(subst) - 1; k++) {
			memcpy(t, tok, len + 1);
			/* k == the last: flip the low bit. */
			t[i] = k < sizeof(subst) - 1 ? subst[k] : (char)(t[i] ^ 1);
			if (t[i] == tok[i])
				continue;
			err = eh_oauth_verify(&c.o, t, len, NOW);
			if (err != EH_ERR_TOKEN_MAC && err != EH_ERR_TOKEN_MALFORMED) {
				fprintf(stderr, "  byte %zu -> %02x: %d\n", i,
				    (unsigned char)t[i], err);
				bad++;
			}
		}
	}
	T_EQ_INT(bad, 0);
	/* Truncations: every proper prefix is malformed. */
	for (i = 0; i < len; i++)
		if (eh_oauth_verify(&c.o, tok, i, NOW) != EH_ERR_TOKEN_MALFORMED)
			bad++;
	T_EQ_INT(bad, 0);
	/* The token needs no NUL: the length is the token. */
	memcpy(t, tok, len);
	memcpy(t + len, "garbage", 8);
	T_EQ_INT(eh_oauth_verify(&c.o, t, len, NOW), EH_OK);
	T_EQ_INT(eh_oauth_verify(&c.o, t, len + 1, NOW), EH_ERR_TOKEN_MALFORMED);
}

/* Changes to one part at a time, by shape. */
static void
tamper_parts(void)
{
	static const struct {
		const char *what;
		const char *tok;
		enum eh_err err;
	} rows[] = {
		{ "as minted", "eh1.1700003600.AAECAwQFBgcICQoLDA0ODw."
		  "v26YTkg1eYQMddMp3UyEjhm6o9cNgNULR92z10afngM", EH_OK },
		{ "version eh2", "eh2.1700003600.AAECAwQFBgcICQoLDA0ODw."
		  "v26YTkg1eYQMddMp3UyEjhm6o9cNgNULR92z10afngM",
		  EH_ERR_TOKEN_MALFORMED },
		{ "version in capitals", "EH1.1700003600.AAECAwQFBgcICQoLDA0ODw."
		  "v26YTkg1eYQMddMp3UyEjhm6o9cNgNULR92z10afngM",
		  EH_ERR_TOKEN_MALFORMED },
		{ "no version", "1700003600.AAECAwQFBgcICQoLDA0ODw."
		  "v26YTkg1eYQMddMp3UyEjhm6o9cNgNULR92z10afngM",
		  EH_ERR_TOKEN_MALFORMED },
		{ "expiry a digit changed", "eh1.1700003601.AAECAwQFBgcICQoLDA0ODw."
		  "v26YTkg1eYQMddMp3UyEjhm6o9cNgNULR92z10afngM", EH_ERR_TOKEN_MAC },
		{ "expiry earlier", "eh1.1700000001.AAECAwQFBgcICQoLDA0ODw."
		  "v26YTkg1eYQMddMp3UyEjhm6o9cNgNULR92z10afngM", EH_ERR_TOKEN_MAC },
		{ "expiry with a leading zero", "eh1.01700003600.AAECAwQFBgcICQoLDA0ODw."
		  "v26YTkg1eYQMddMp3UyEjhm6o9cNgNULR92z10afngM",
		  EH_ERR_TOKEN_MALFORMED },
		{ "expiry with a sign", "eh1.+1700003600.AAECAwQFBgcICQoLDA0ODw."
		  "v26YTkg1eYQMddMp3UyEjhm6o9cNgNULR92z10afngM",
		  EH_ERR_TOKEN_MALFORMED },
		{ "expiry negative", "eh1.-1700003600.AAECAwQFBgcICQoLDA0ODw."
		  "v26YTkg1eYQMddMp3UyEjhm6o9cNgNULR92z10afngM",
		  EH_ERR_TOKEN_MALFORMED },
		{ "expiry over int64", "eh1.9223372036854775808.AAECAwQFBgcICQoLDA0ODw."
		  "v26YTkg1eYQMddMp3UyEjhm6o9cNgNULR92z10afngM",
		  EH_ERR_TOKEN_MALFORMED },
		{ "expiry of 20 digits", "eh1.17000036001700003600.AAECAwQFBgcICQoLDA0ODw."
		  "v26YTkg1eYQMddMp3UyEjhm6o9cNgNULR92z10afngM",
		  EH_ERR_TOKEN_MALFORMED },
		{ "expiry in hex", "eh1.0x6553f100.AAECAwQFBgcICQoLDA0ODw."
		  "v26YTkg1eYQMddMp3UyEjhm6o9cNgNULR92z10afngM",
		  EH_ERR_TOKEN_MALFORMED },
		{ "expiry empty", "eh1..AAECAwQFBgcICQoLDA0ODw."
		  "v26YTkg1eYQMddMp3UyEjhm6o9cNgNULR92z10afngM",
		  EH_ERR_TOKEN_MALFORMED },
		{ "nonce changed", "eh1.1700003600.AAECAwQFBgcICQoLDA0ODA."
		  "v26YTkg1eYQMddMp3UyEjhm6o9cNgNULR92z10afngM", EH_ERR_TOKEN_MAC },
		{ "nonce with non-zero trailing bits", "eh1.1700003600."
		  "AAECAwQFBgcICQoLDA0ODx.v26YTkg1eYQMddMp3UyEjhm6o9cNgNULR92z10afngM",
		  EH_ERR_TOKEN_MALFORMED },
		{ "nonce short", "eh1.1700003600.AAECAwQFBgcICQoLDA0OD."
		  "v26YTkg1eYQMddMp3UyEjhm6o9cNgNULR92z10afngM",
		  EH_ERR_TOKEN_MALFORMED },
		{ "nonce long", "eh1.1700003600.AAECAwQFBgcICQoLDA0ODwA."
		  "v26YTkg1eYQMddMp3UyEjhm6o9cNgNULR92z10afngM",
		  EH_ERR_TOKEN_MALFORMED },
		{ "nonce empty", "eh1.1700003600..v26YTkg1eYQMddMp3UyEjhm6o9cNgNULR92z10afngM",
		  EH_ERR_TOKEN_MALFORMED },
		{ "nonce padded", "eh1.1700003600.AAECAwQFBgcICQoLDA0ODw==."
		  "v26YTkg1eYQMddMp3UyEjhm6o9cNgNULR92z10afngM",
		  EH_ERR_TOKEN_MALFORMED },
		{ "nonce in standard base64", "eh1.1700003600.AAECAwQFBgcICQoLDA0O+w."
		  "v26YTkg1eYQMddMp3UyEjhm6o9cNgNULR92z10afngM",
		  EH_ERR_TOKEN_MALFORMED },
		{ "MAC changed", "eh1.1700003600.AAECAwQFBgcICQoLDA0ODw."
		  "w26YTkg1eYQMddMp3UyEjhm6o9cNgNULR92z10afngM", EH_ERR_TOKEN_MAC },
		{ "MAC with non-zero trailing bits", "eh1.1700003600."
		  "AAECAwQFBgcICQoLDA0ODw.v26YTkg1eYQMddMp3UyEjhm6o9cNgNULR92z10afngN",
		  EH_ERR_TOKEN_MALFORMED },
		{ "MAC empty", "eh1.1700003600.AAECAwQFBgcICQoLDA0ODw.",
		  EH_ERR_TOKEN_MALFORMED },
		{ "MAC short", "eh1.1700003600.AAECAwQFBgcICQoLDA0ODw."
		  "v26YTkg1eYQMddMp3UyEjhm6o9cNgNULR92z10afng",
		  EH_ERR_TOKEN_MALFORMED },
		{ "MAC long", "eh1.1700003600.AAECAwQFBgcICQoLDA0ODw."
		  "v26YTkg1eYQMddMp3UyEjhm6o9cNgNULR92z10afngMA",
		  EH_ERR_TOKEN_MALFORMED },
		{ "MAC with a '/'", "eh1.1700003600.AAECAwQFBgcICQoLDA0ODw."
		  "v26YTkg1eYQMddMp3UyEjhm6o9cNgNULR92z10afn/M",
		  EH_ERR_TOKEN_MALFORMED },
		{ "no MAC", "eh1.1700003600.AAECAwQFBgcICQoLDA0ODw",
		  EH_ERR_TOKEN_MALFORMED },
		{ "an extra dot at the end", "eh1.1700003600.AAECAwQFBgcICQoLDA0ODw."
		  "v26YTkg1eYQMddMp3UyEjhm6o9cNgNULR92z10afngM.",
		  EH_ERR_TOKEN_MALFORMED },
		{ "an extra dot inside", "eh1.1700003600..AAECAwQFBgcICQoLDA0ODw."
		  "v26YTkg1eYQMddMp3UyEjhm6o9cNgNULR92z10afngM",
		  EH_ERR_TOKEN_MALFORMED },
		{ "an extra part", "eh1.1700003600.AAECAwQFBgcICQoLDA0ODw.AAAA."
		  "v26YTkg1eYQMddMp3UyEjhm6o9cNgNULR92z10afngM",
		  EH_ERR_TOKEN_MALFORMED },
		{ "only dots", "eh1....", EH_ERR_TOKEN_MALFORMED },
		{ "empty", "", EH_ERR_TOKEN_MALFORMED },
		{ "a space inside", "eh1.1700003600.AAECAwQFBgcICQoLDA0ODw. "
		  "v26YTkg1eYQMddMp3UyEjhm6o9cNgNULR92z10afngM",
		  EH_ERR_TOKEN_MALFORMED },
		{ "over-long", "eh1.1700003600.AAECAwQFBgcICQoLDA0ODw."
		  "v26YTkg1eYQMddMp3UyEjhm6o9cNgNULR92z10afngM"
		  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		  EH_ERR_TOKEN_MALFORMED },
	};
	struct client c;
	size_t i;
	enum eh_err err;

	client(&c, ID, S1, NULL, TTL);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		err = verify(&c, rows[i].tok, NOW);
		if (err != rows[i].err)
			fprintf(stderr, "  row \"%s\"\n", rows[i].what);
		T_EQ_INT(err, rows[i].err);
	}
}

static void
secrets(void)
{
	struct client a, ba, b, none;
	char tok[EH_OAUTH_TOKEN_MAX];

	mint(tok, S1, NOW + TTL);
	client(&a, ID, S1, NULL, TTL);
	client(&b, ID, "another", NULL, TTL);
	T_EQ_INT(verify(&a, tok, NOW), EH_OK);
	/* Wrong secret. */
	T_EQ_INT(verify(&b, tok, NOW), EH_ERR_TOKEN_MAC);
	/* Rotation: a new secret first, the old one still listed... */
	client(&ba, ID, "another", S1, TTL);
	T_EQ_INT(verify(&ba, tok, NOW), EH_OK);
	/* ...then removed: its tokens are revoked. */
	T_EQ_INT(verify(&b, tok, NOW), EH_ERR_TOKEN_MAC);
	/* The token key is not the comparison digest. */
	T_CHECK(memcmp(a.key[0], a.digest[0], 32) != 0);
	/* No client configured: fail closed. */
	client(&none, NULL, S1, NULL, TTL);
	T_EQ_INT(verify(&none, tok, NOW), EH_ERR_OAUTH_NONE);
	client(&none, ID, NULL, NULL, TTL);
	T_EQ_INT(verify(&none, tok, NOW), EH_ERR_OAUTH_NONE);
	T_EQ_INT(eh_oauth_verify(NULL, tok, strlen(tok), NOW), EH_ERR_OAUTH_NONE);
}

/* ------------------------------------------------------------------ */
/* The token endpoint.                                                 */

enum body { FORM, MULTI };

/* s as application/x-www-form-urlencoded writes it. */
static size_t
urlenc(char *out, size_t cap, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;
	unsigned char c;

	for (; *s != '\0' && n + 3 < cap; s++) {
		c = (unsigned char)*s;
		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z') || c == '-' || c == '.' || c == '_' ||
		    c == '*')
			out[n++] = (char)c;
		else if (c == ' ')
			out[n++] = '+';
		else {
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	out[n] = '\0';
	return n;
}

/* The body for the name, value pairs f (NULL-ended) into out. */
static size_t
body(char *out, size_t cap, enum body kind, const char *const *f)
{
	size_t n = 0;
	int k;

	out[0] = '\0';
	for (; f[0] != NULL; f += 2) {
		if (kind == FORM) {
			if (n > 0)
				out[n++] = '&';
			n += urlenc(out + n, cap - n, f[0]);
			out[n++] = '=';
			n += urlenc(out + n, cap - n, f[1]);
		} else {
			k = snprintf(out + n, cap - n, "--b0undary\r\n"
			    "Content-Disposition: form-data; name=\"%s\"\r\n\r\n"
			    "%s\r\n", f[0], f[1]);
			n += (size_t)k;
		}
	}
	if (kind == MULTI) {
		k = snprintf(out + n, cap - n, "--b0undary--\r\n");
		n += (size_t)k;
	}
	out[n] = '\0';
	return n;
}

/* "Basic " base64(user ":" pass) into out. */
static void
basic(char *out, size_t cap, const char *user, const char *pass)
{
	char raw[512];
	int n;

	n = snprintf(raw, sizeof(raw), "%s:%s", user, pass);
	memcpy(out, "Basic ", 6);
	sodium_bin2base64(out + 6, cap - 6, (const unsigned char *)raw,
	    (size_t)n, sodium_base64_VARIANT_ORIGINAL);
}

#define GRANT "grant_type", "client_credentials"
#define BODY_CREDS "client_id", ID, "client_secret", S1
#define SCOPE127 "s12345678901234567890123456789012345678901234567890123456789" \
	"0123456789012345678901234567890123456789012345678901234567890123456"
#define SCOPE128 SCOPE127 "7"

static const struct row {
	const char *what;
	const char *user, *pass;        /* Basic, as sent; NULL: none */
	const char *header;             /* else this Authorization */
	const char *f[12];              /* the body's parameters */
	enum eh_err err;
	int status;
	const char *error;              /* the "error" of the JSON */
	const char *scope;              /* on 200: echoed, or NULL */
} token_rows[] = {
	{ "Basic, urlencoded id and secret", ID, S1_ENC, NULL, { GRANT },
	  EH_OK, 200, NULL, NULL },
	{ "Basic, scheme in any case", ID, S1_ENC, NULL, { GRANT }, EH_OK, 200,
	  NULL, NULL },
	{ "Basic, as clients that do not urlencode send it", ID, S1, NULL,
	  { GRANT }, EH_OK, 200, NULL, NULL },
	{ "Basic, the id urlencoded too", "onespan%2Dclient", S1_ENC, NULL,
	  { GRANT }, EH_OK, 200, NULL, NULL },
	{ "Basic, an older secret still listed", ID, S2, NULL, { GRANT },
	  EH_OK, 200, NULL, NULL },
	{ "Basic with the same client_id in the body", ID, S1_ENC, NULL,
	  { GRANT, "client_id", ID }, EH_OK, 200, NULL, NULL },
	{ "body parameters", NULL, NULL, NULL, { GRANT, BODY_CREDS }, EH_OK,
	  200, NULL, NULL },
	{ "unknown parameters ignored", NULL, NULL, NULL, { GRANT, BODY_CREDS,
	  "audience", "x", "resource", "y" }, EH_OK, 200, NULL, NULL },
	{ "a scope, echoed", NULL, NULL, NULL, { GRANT, BODY_CREDS, "scope",
	  "callback read:events" }, EH_OK, 200, NULL, "callback read:events" },
	{ "a scope of 127 characters", ID, S1_ENC, NULL, { GRANT, "scope",
	  SCOPE127 }, EH_OK, 200, NULL, SCOPE127 },
	{ "an empty scope asks for none", ID, S1_ENC, NULL, { GRANT, "scope",
	  "" }, EH_OK, 200, NULL, NULL },
	/* RFC 6749 3.1: a parameter without a value is omitted. */
	{ "Basic and an empty client_secret in the body", ID, S1_ENC, NULL,
	  { GRANT, "client_secret", "" }, EH_OK, 200, NULL, NULL },
	{ "Basic and an empty client_id in the body", ID, S1_ENC, NULL,
	  { GRANT, "client_id", "" }, EH_OK, 200, NULL, NULL },
	{ "body credentials and an empty scope", NULL, NULL, NULL, { GRANT,
	  BODY_CREDS, "scope", "" }, EH_OK, 200, NULL, NULL },

	{ "no grant_type", ID, S1_ENC, NULL, { "scope", "x" },
	  EH_ERR_OAUTH_REQUEST, 400, "invalid_request", NULL },
	{ "an empty grant_type", ID, S1_ENC, NULL, { "grant_type", "" },
	  EH_ERR_OAUTH_REQUEST, 400, "invalid_request", NULL },
	{ "grant_type twice", ID, S1_ENC, NULL, { GRANT, GRANT },
	  EH_ERR_FIELD_DUP, 400, "invalid_request", NULL },
	{ "client_secret twice", NULL, NULL, NULL, { GRANT, BODY_CREDS,
	  "client_secret", S1 }, EH_ERR_FIELD_DUP, 400, "invalid_request",
	  NULL },
	{ "scope twice", ID, S1_ENC, NULL, { GRANT, "scope", "a", "scope",
	  "a" }, EH_ERR_FIELD_DUP, 400, "invalid_request", NULL },
	{ "both client authentications", ID, S1_ENC, NULL, { GRANT,
	  BODY_CREDS }, EH_ERR_OAUTH_REQUEST, 400, "invalid_request", NULL },
	{ "Basic and a client_secret in the body", ID, S1_ENC, NULL, { GRANT,
	  "client_secret", S1 }, EH_ERR_OAUTH_REQUEST, 400, "invalid_request",
	  NULL },
	{ "Basic and another client_id in the body", ID, S1_ENC, NULL, { GRANT,
	  "client_id", "other" }, EH_ERR_OAUTH_REQUEST, 400, "invalid_request",
	  NULL },
	{ "another scheme and body credentials", NULL, NULL, "Bearer abc",
	  { GRANT, BODY_CREDS }, EH_ERR_OAUTH_REQUEST, 400, "invalid_request",
	  NULL },
	{ "a client_secret without client_id", NULL, NULL, NULL, { GRANT,
	  "client_secret", S1 }, EH_ERR_OAUTH_REQUEST, 400, "invalid_request",
	  NULL },
	{ "a scope of 128 characters", ID, S1_ENC, NULL, { GRANT, "scope",
	  SCOPE128 }, EH_ERR_OAUTH_REQUEST, 400, "invalid_request", NULL },
	{ "a scope with a quote", ID, S1_ENC, NULL, { GRANT, "scope",
	  "a\"b" }, EH_ERR_OAUTH_REQUEST, 400, "invalid_request", NULL },
	{ "a scope with two spaces", ID, S1_ENC, NULL, { GRANT, "scope",
	  "a  b" }, EH_ERR_OAUTH_REQUEST, 400, "invalid_request", NULL },
	{ "a scope outside ASCII", ID, S1_ENC, NULL, { GRANT, "scope",
	  "\xc3\xa9" }, EH_ERR_OAUTH_REQUEST, 400, "invalid_request", NULL },

	{ "unsupported grant_type", ID, S1_ENC, NULL, { "grant_type",
	  "password" }, EH_ERR_OAUTH_GRANT, 400, "unsupported_grant_type",
	  NULL },
	{ "grant_type in capitals", NULL, NULL, NULL, { "grant_type",
	  "Client_Credentials", BODY_CREDS }, EH_ERR_OAUTH_GRANT, 400,
	  "unsupported_grant_type", NULL },

	{ "unknown client, Basic", "someone", S1_ENC, NULL, { GRANT },
	  EH_ERR_OAUTH_CLIENT, 401, "invalid_client", NULL },
	{ "unknown client, body", NULL, NULL, NULL, { GRANT, "client_id",
	  "someone", "client_secret", S1 }, EH_ERR_OAUTH_CLIENT, 401,
	  "invalid_client", NULL },
	{ "unknown client before an unsupported grant", "someone", S1_ENC,
	  NULL, { "grant_type", "password" }, EH_ERR_OAUTH_CLIENT, 401,
	  "invalid_client", NULL },
	{ "wrong secret, Basic", ID, "wrong", NULL, { GRANT },
	  EH_ERR_OAUTH_SECRET, 401, "invalid_client", NULL },
	{ "wrong secret, body", NULL, NULL, NULL, { GRANT, "client_id", ID,
	  "client_secret", "wrong" }, EH_ERR_OAUTH_SECRET, 401,
	  "invalid_client", NULL },
	{ "an empty client_secret", NULL, NULL, NULL, { GRANT,
	  "client_id", ID, "client_secret", "" }, EH_ERR_OAUTH_SECRET, 401,
	  "invalid_client", NULL },
	{ "a client_id without client_secret", NULL, NULL, NULL, { GRANT,
	  "client_id", ID }, EH_ERR_OAUTH_SECRET, 401, "invalid_client",
	  NULL },
	{ "no client authentication", NULL, NULL, NULL, { GRANT },
	  EH_ERR_OAUTH_CLIENT, 401, "invalid_client", NULL },
	{ "another scheme", NULL, NULL, "Bearer abc", { GRANT },
	  EH_ERR_OAUTH_CLIENT, 401, "invalid_client", NULL },
	{ "Basic, not base64", NULL, NULL, "Basic !!!!", { GRANT },
	  EH_ERR_OAUTH_CLIENT, 401, "invalid_client", NULL },
	{ "Basic, no colon", NULL, NULL, "Basic b25lc3Bhbi1jbGllbnQ=",
	  { GRANT }, EH_ERR_OAUTH_CLIENT, 401, "invalid_client", NULL },
	{ "Basic, unpadded", NULL, NULL, "Basic b25lc3Bhbi1jbGllbnQ6eA",
	  { GRANT }, EH_ERR_OAUTH_CLIENT, 401, "invalid_client", NULL },
	{ "Basic alone", NULL, NULL, "Basic", { GRANT }, EH_ERR_OAUTH_CLIENT,
	  401, "invalid_client", NULL },
};

/* The access_token of a 200 reply into tok, or "". */
static void
access_token(char tok[EH_OAUTH_TOKEN_MAX], const struct eh_response *r)
{
	const char *p, *q;

	tok[0] = '\0';
	p = strstr(r->body, "{\"access_token\":\"");
	if (p == NULL)
		return;
	p += 17;
	q = strchr(p, '"');
	if (q == NULL || q - p >= EH_OAUTH_TOKEN_MAX)
		return;
	memcpy(tok, p, (size_t)(q - p));
	tok[q - p] = '\0';
}

static void
check_row(const struct row *w, enum body kind, const struct client *c)
{
	struct eh_request req;
	struct eh_response r;
	char buf[2048], auth[600], tok[EH_OAUTH_TOKEN_MAX], want[600];
	enum eh_err err;

	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.content_type = kind == FORM ?
	    "application/x-www-form-urlencoded" :
	    "multipart/form-data; boundary=b0undary";
	req.body = buf;
	req.body_len = body(buf, sizeof(buf), kind, w->f);
	req.now = NOW;
	memcpy(req.nonce, nonce, sizeof(nonce));
	if (w->user != NULL) {
		basic(auth, sizeof(auth), w->user, w->pass);
		if (strstr(w->what, "any case") != NULL)
			memcpy(auth, "bAsIc", 5);
		req.authorization = auth;
	} else
		req.authorization = w->header;
	memset(&r, 0xa5, sizeof(r));
	err = eh_oauth_token(&r, &req, &c->o);
	if (err != w->err || r.status != w->status)
		fprintf(stderr, "  row \"%s\" (%s)\n", w->what,
		    kind == FORM ? "urlencoded" : "multipart");
	T_EQ_INT(err, w->err);
	T_EQ_INT(r.status, w->status);
	T_EQ_STR(r.content_type, "application/json");
	T_EQ_INT(r.no_cache, 1);
	T_EQ_INT(r.body_len, strlen(r.body));
	T_CHECK(r.allow == NULL && r.retry_after == NULL);
	if (w->status == 401)
		T_EQ_STR(r.www_authenticate, "Basic realm=\"esignhook\"");
	else
		T_CHECK(r.www_authenticate == NULL);
	if (w->status != 200) {
		snprintf(want, sizeof(want), "{\"error\":\"%s\"}", w->error);
		T_EQ_STR(r.body, want);
		return;
	}
	access_token(tok, &r);
	T_EQ_INT(verify(c, tok, NOW + TTL), EH_OK);
	T_EQ_INT(verify(c, tok, NOW + TTL + EH_OAUTH_SKEW + 1),
	    EH_ERR_TOKEN_EXPIRED);
	if (w->scope != NULL)
		snprintf(want, sizeof(want), "{\"access_token\":\"%s\","
		    "\"token_type\":\"Bearer\",\"expires_in\":%d,"
		    "\"scope\":\"%s\"}", tok, TTL, w->scope);
	else
		snprintf(want, sizeof(want), "{\"access_token\":\"%s\","
		    "\"token_type\":\"Bearer\",\"expires_in\":%d}", tok, TTL);
	T_EQ_STR(r.body, want);
}

static void
endpoint_rows(void)
{
	struct client c;
	size_t i;

	client(&c, ID, S1, S2, TTL);
	for (i = 0; i < sizeof(token_rows) / sizeof(token_rows[0]); i++) {
		check_row(&token_rows[i], FORM, &c);
		check_row(&token_rows[i], MULTI, &c);
	}
}

/* A token request as OneSpan's "Authorization Header" setting sends it. */
static enum eh_err
request(struct eh_response *r, const struct client *c, const char *ct,
    const char *b, size_t len, const char *auth)
{
	struct eh_request req;

	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.content_type = ct;
	req.body = b;
	req.body_len = len;
	req.authorization = auth;
	req.now = NOW;
	memcpy(req.nonce, nonce, sizeof(nonce));
	return eh_oauth_token(r, &req, &c->o);
}

static void
endpoint_exact(void)
{
	struct client c;
	struct eh_response r;
	char auth[600], want[600];
	static const char b[] = "grant_type=client_credentials";

	client(&c, ID, S1, S2, TTL);
	basic(auth, sizeof(auth), ID, S1_ENC);
	T_EQ_INT(request(&r, &c, "application/x-www-form-urlencoded", b,
	    sizeof(b) - 1, auth), EH_OK);
	/* The known-answer token: minted with S1's key at NOW + TTL. */
	snprintf(want, sizeof(want), "{\"access_token\":\"eh1.1700003600."
	    "AAECAwQFBgcICQoLDA0ODw.v26YTkg1eYQMddMp3UyEjhm6o9cNgNULR92z10afngM"
	    "\",\"token_type\":\"Bearer\",\"expires_in\":3600}");
	T_EQ_STR(r.body, want);
	T_EQ_INT(r.status, 200);
	T_EQ_INT(r.no_cache, 1);
	T_EQ_STR(r.content_type, "application/json");
	/* Media type parameters and case. */
	T_EQ_INT(request(&r, &c, "Application/X-WWW-Form-Urlencoded; "
	    "charset=UTF-8", b, sizeof(b) - 1, auth), EH_OK);
	/* A final line end, as the form decoder allows. */
	T_EQ_INT(request(&r, &c, "application/x-www-form-urlencoded",
	    "grant_type=client_credentials\r\n", 31, auth), EH_OK);
	/* Other content types, none, malformed bodies: invalid_request. */
	T_EQ_INT(request(&r, &c, "application/json", "{}", 2, auth),
	    EH_ERR_OAUTH_REQUEST);
	T_EQ_STR(r.body, "{\"error\":\"invalid_request\"}");
	T_EQ_INT(request(&r, &c, NULL, b, sizeof(b) - 1, auth),
	    EH_ERR_OAUTH_REQUEST);
	T_EQ_INT(r.status, 400);
	T_EQ_INT(request(&r, &c, "application/x-www-form-urlencoded",
	    "grant_type=%zz", 14, auth), EH_ERR_FORM_ESCAPE);
	T_EQ_STR(r.body, "{\"error\":\"invalid_request\"}");
	T_EQ_INT(r.status, 400);
	T_EQ_INT(request(&r, &c, "multipart/form-data; boundary=x", b,
	    sizeof(b) - 1, auth), EH_ERR_MULTIPART);
	T_EQ_STR(r.body, "{\"error\":\"invalid_request\"}");
	T_EQ_INT(request(&r, &c, "multipart/form-data", b, sizeof(b) - 1,
	    auth), EH_ERR_MULTIPART);
	T_EQ_INT(r.status, 400);
}

/* The token a client gets is keyed by the secret it proved. */
static void
endpoint_rotation(void)
{
	struct client both, s1, s2;
	struct eh_response r;
	char auth[600], tok[EH_OAUTH_TOKEN_MAX];
	static const char b[] = "grant_type=client_credentials";

	client(&both, ID, S1, S2, TTL);
	client(&s1, ID, S1, NULL, TTL);
	client(&s2, ID, S2, NULL, TTL);
	basic(auth, sizeof(auth), ID, S2);
	T_EQ_INT(request(&r, &both, "application/x-www-form-urlencoded", b,
	    sizeof(b) - 1, auth), EH_OK);
	access_token(tok, &r);
	T_EQ_INT(verify(&both, tok, NOW), EH_OK);
	T_EQ_INT(verify(&s2, tok, NOW), EH_OK);
	/* S2 rotated out: what it obtained no longer admits anyone. */
	T_EQ_INT(verify(&s1, tok, NOW), EH_ERR_TOKEN_MAC);
	basic(auth, sizeof(auth), ID, S1_ENC);
	T_EQ_INT(request(&r, &both, "application/x-www-form-urlencoded", b,
	    sizeof(b) - 1, auth), EH_OK);
	access_token(tok, &r);
	T_EQ_INT(verify(&s1, tok, NOW), EH_OK);
	T_EQ_INT(verify(&s2, tok, NOW), EH_ERR_TOKEN_MAC);
	/* Once rotated out, the secret obtains nothing either. */
	basic(auth, sizeof(auth), ID, S2);
	T_EQ_INT(request(&r, &s1, "application/x-www-form-urlencoded", b,
	    sizeof(b) - 1, auth), EH_ERR_OAUTH_SECRET);
}

static void
endpoint_config(void)
{
	struct client c;
	struct eh_response r;
	char auth[600], tok[EH_OAUTH_TOKEN_MAX];
	static const char b[] = "grant_type=client_credentials";
	struct eh_request req;

	basic(auth, sizeof(auth), ID, S1_ENC);
	/* No client configured: every request refused, the good one too. */
	client(&c, NULL, S1, NULL, TTL);
	T_EQ_INT(request(&r, &c, "application/x-www-form-urlencoded", b,
	    sizeof(b) - 1, auth), EH_ERR_OAUTH_NONE);
	T_EQ_INT(r.status, 401);
	T_EQ_STR(r.body, "{\"error\":\"invalid_client\"}");
	T_EQ_STR(r.www_authenticate, "Basic realm=\"esignhook\"");
	T_EQ_INT(r.no_cache, 1);
	client(&c, ID, NULL, NULL, TTL);
	T_EQ_INT(request(&r, &c, "application/x-www-form-urlencoded", b,
	    sizeof(b) - 1, auth), EH_ERR_OAUTH_NONE);
	memset(&req, 0, sizeof(req));
	T_EQ_INT(eh_oauth_token(&r, &req, NULL), EH_ERR_OAUTH_NONE);
	T_EQ_INT(r.status, 401);
	/* A lifetime out of range is the configuration's fault. */
	client(&c, ID, S1, NULL, 0);
	T_EQ_INT(request(&r, &c, "application/x-www-form-urlencoded", b,
	    sizeof(b) - 1, auth), EH_ERR_CONFIG);
	T_EQ_INT(r.status, 500);
	client(&c, ID, S1, NULL, EH_OAUTH_MAX_TTL + 1);
	T_EQ_INT(request(&r, &c, "application/x-www-form-urlencoded", b,
	    sizeof(b) - 1, auth), EH_ERR_CONFIG);
	/* The longest reply fits: a day, a 19-digit expiry, the longest
	 * scope. */
	client(&c, ID, S1, NULL, EH_OAUTH_MAX_TTL);
	memset(&req, 0, sizeof(req));
	req.content_type = "application/x-www-form-urlencoded";
	req.body = "grant_type=client_credentials&scope=" SCOPE127;
	req.body_len = strlen(req.body);
	req.authorization = auth;
	req.now = INT64_MAX - EH_OAUTH_MAX_TTL;
	T_EQ_INT(eh_oauth_token(&r, &req, &c.o), EH_OK);
	T_CHECK(r.body_len < EH_RESPONSE_BODY_MAX);
	access_token(tok, &r);
	T_EQ_INT(strlen(tok), 4 + 19 + 1 + 22 + 1 + 43);
	T_EQ_INT(verify(&c, tok, INT64_MAX), EH_OK);
	/* A clock so far ahead that expiry would overflow. */
	req.now = INT64_MAX - 1;
	T_EQ_INT(eh_oauth_token(&r, &req, &c.o), EH_ERR_CONFIG);
}

static void
errors(void)
{
	static const struct {
		enum eh_err err;
		int status;
		const char *ct, *body, *www, *allow;
	} rows[] = {
		{ EH_ERR_OAUTH_REQUEST, 400, "application/json",
		  "{\"error\":\"invalid_request\"}", NULL, NULL },
		{ EH_ERR_MULTIPART, 400, "application/json",
		  "{\"error\":\"invalid_request\"}", NULL, NULL },
		{ EH_ERR_SHORT_BODY, 400, "application/json",
		  "{\"error\":\"invalid_request\"}", NULL, NULL },
		{ EH_ERR_OAUTH_GRANT, 400, "application/json",
		  "{\"error\":\"unsupported_grant_type\"}", NULL, NULL },
		{ EH_ERR_OAUTH_CLIENT, 401, "application/json",
		  "{\"error\":\"invalid_client\"}", "Basic realm=\"esignhook\"",
		  NULL },
		{ EH_ERR_OAUTH_SECRET, 401, "application/json",
		  "{\"error\":\"invalid_client\"}", "Basic realm=\"esignhook\"",
		  NULL },
		{ EH_ERR_TOKEN_EXPIRED, 401, "application/json",
		  "{\"error\":\"invalid_token\"}",
		  "Bearer error=\"invalid_token\"", NULL },
		{ EH_ERR_TOKEN_MAC, 401, "application/json",
		  "{\"error\":\"invalid_token\"}",
		  "Bearer error=\"invalid_token\"", NULL },
		{ EH_ERR_METHOD, 405, "text/plain; charset=utf-8",
		  "method not allowed\n", NULL, "POST" },
		{ EH_ERR_TOO_LARGE, 413, "text/plain; charset=utf-8",
		  "body over ESIGNHOOK_MAX_BODY\n", NULL, NULL },
		{ EH_ERR_READ, 503, "text/plain; charset=utf-8",
		  "body could not be read\n", NULL, NULL },
	};
	struct eh_response r;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memset(&r, 0xa5, sizeof(r));
		eh_oauth_error(&r, rows[i].err);
		T_EQ_INT(r.status, rows[i].status);
		T_EQ_STR(r.content_type, rows[i].ct);
		T_EQ_STR(r.body, rows[i].body);
		T_EQ_INT(r.body_len, strlen(rows[i].body));
		T_EQ_INT(r.no_cache, 1);
		if (rows[i].www != NULL)
			T_EQ_STR(r.www_authenticate, rows[i].www);
		else
			T_CHECK(r.www_authenticate == NULL);
		if (rows[i].allow != NULL)
			T_EQ_STR(r.allow, rows[i].allow);
		else
			T_CHECK(r.allow == NULL);
		T_CHECK((r.retry_after != NULL) == (rows[i].status == 503));
	}
}

const struct t_case t_oauth[] = {
	{ "derive and mint: a known answer", known_answer },
	{ "verify: expiry, skew and far-future expiry", expiry },
	{ "verify: every byte changed, every truncation", tamper_bytes },
	{ "verify: each part tampered with", tamper_parts },
	{ "verify: wrong, rotated and no secret", secrets },
	{ "token endpoint: each row, urlencoded and multipart", endpoint_rows },
	{ "token endpoint: the exact reply, content types", endpoint_exact },
	{ "token endpoint: tokens keyed by the secret proved",
	  endpoint_rotation },
	{ "token endpoint: no client, lifetime, the longest reply",
	  endpoint_config },
	{ "error replies", errors },
	{ NULL, NULL }
};
