/*
 * lib/download.c, lib/register.c (and lib/osapi.c where no server is
 * needed): the packageId's file name and URL escape as tables, the
 * download path, the refusals that come before any request, a refused
 * connection leaving nothing behind, a dead drainer's temporaries
 * removed, and the registration body and the masking of OneSpan's
 * reply.  tests/e2e-download.sh does the rest against a stand-in
 * OneSpan API.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "../lib/esignhook.h"
#include "t.h"

#define API_KEY "apikeyZ81mQ4cw0pXr"
#define CB_KEY "osk7Qf3a9c1e2b4d60"

/* buf (of at least n + 1 bytes) filled with n copies of c. */
static char *
rep(char *buf, char c, size_t n)
{
	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

static void
name_table(void)
{
	static const struct {
		const char *id, *want;
	} t[] = {
		/* OneSpan's own ids (base64url-ish, '=' padded) stay. */
		{ "5n4obeO8jYoPp126Cm-Y3fxdfbo=", "5n4obeO8jYoPp126Cm-Y3fxdfbo=" },
		{ "a/b", "a%2Fb" },
		{ "../x", "%2E.%2Fx" },
		{ "../../x", "%2E.%2F..%2Fx" },
		{ ".hidden", "%2Ehidden" },
		{ ".", "%2E" },
		{ "..", "%2E." },
		{ "x.", "x." },
		{ "a.b.c", "a.b.c" },
		/* '%' escaped too: "%2F" and "/" never share a file. */
		{ "%2F", "%252F" },
		{ "/", "%2F" },
		{ "-._~=", "-._~=" },
		{ "~x", "~x" },
		{ "a b+c", "a%20b%2Bc" },
		{ "a\\b", "a%5Cb" },
		{ "a:b*c?d", "a%3Ab%2Ac%3Fd" },
		{ "\xc3\xa9t\xc3\xa9", "%C3%A9t%C3%A9" },
		{ "\xe2\x82\xac", "%E2%82%AC" },
		{ "\x7f\x01", "%7F%01" },
		{ "AZaz09", "AZaz09" },
	};
	size_t i;
	char *got, id[256];

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		got = eh_download_name(t[i].id);
		T_EQ_STR(got, t[i].want);
		free(got);
	}
	T_CHECK(eh_download_name("") == NULL);
	/* 255 characters, as the receiver accepts: kept whole. */
	got = eh_download_name(rep(id, 'a', 255));
	T_EQ_STR(got, id);
	T_EQ_INT(strlen(got), 255);
	free(got);
	got = eh_download_name(rep(id, '/', 255));
	T_EQ_INT(strlen(got), 765);
	free(got);
}

/* Never a '/', never a leading '.', one-to-one over a sample. */
static void
name_properties(void)
{
	char id[3], *a, *b;
	unsigned x, y;

	id[2] = '\0';
	for (x = 1; x < 256; x++) {
		id[0] = (char)x;
		id[1] = '\0';
		a = eh_download_name(id);
		T_CHECK(a != NULL && strchr(a, '/') == NULL && a[0] != '.');
		T_CHECK(a != NULL && strcmp(a, ".") != 0 && strcmp(a, "..") != 0);
		for (y = x + 1; y < 256; y++) {
			id[0] = (char)y;
			b = eh_download_name(id);
			if (a != NULL && b != NULL && strcmp(a, b) == 0) {
				fprintf(stderr, "  %02x and %02x share %s\n", x,
				    y, a);
				t_failed++;
			}
			free(b);
		}
		free(a);
	}
}

static void
url_escape_table(void)
{
	static const struct {
		const char *s, *want;
	} t[] = {
		{ "5n4obeO8jYoPp126Cm-Y3fxdfbo=", "5n4obeO8jYoPp126Cm-Y3fxdfbo%3D" },
		{ "a/b", "a%2Fb" },
		{ "../x", "..%2Fx" },
		{ ".hidden", ".hidden" },
		{ "%2F", "%252F" },
		{ "a b?c#d&e", "a%20b%3Fc%23d%26e" },
		{ "-._~", "-._~" },
		{ "\xc3\xa9", "%C3%A9" },
		{ "\xff", "%FF" },
		{ "", "" },
	};
	size_t i;
	char *got;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		got = eh_url_escape(t[i].s);
		T_EQ_STR(got, t[i].want);
		free(got);
	}
}

static void
path(void)
{
	struct eh_ctl_config cfg;
	char *p, id[300];

	eh_ctl_config_init(&cfg);
	T_CHECK(eh_download_path(&cfg, "x") == NULL);
	cfg.download_dir = "/srv/dl";
	p = eh_download_path(&cfg, "a/b");
	T_EQ_STR(p, "/srv/dl/a%2Fb.zip");
	free(p);
	p = eh_download_path(&cfg, "5n4obeO8jYoPp126Cm-Y3fxdfbo=");
	T_EQ_STR(p, "/srv/dl/5n4obeO8jYoPp126Cm-Y3fxdfbo=.zip");
	free(p);
	cfg.download_dir = "/srv/dl//";
	p = eh_download_path(&cfg, ".hidden");
	T_EQ_STR(p, "/srv/dl/%2Ehidden.zip");
	free(p);
	cfg.download_dir = "/";
	p = eh_download_path(&cfg, "x");
	T_EQ_STR(p, "/x.zip");
	free(p);
	T_CHECK(eh_download_path(&cfg, "") == NULL);
	/* The bound is on the encoded name. */
	rep(id, 'b', EH_DOWNLOAD_NAME_MAX);
	p = eh_download_path(&cfg, id);
	T_CHECK(p != NULL && strlen(p) == 1 + EH_DOWNLOAD_NAME_MAX + 4);
	free(p);
	rep(id, 'b', EH_DOWNLOAD_NAME_MAX + 1);
	T_CHECK(eh_download_path(&cfg, id) == NULL);
	rep(id, 'b', EH_DOWNLOAD_NAME_MAX - 2);
	id[EH_DOWNLOAD_NAME_MAX - 3] = '/';     /* 237 + "%2F": 240, fits */
	p = eh_download_path(&cfg, id);
	T_CHECK(p != NULL && strlen(p) == 1 + EH_DOWNLOAD_NAME_MAX + 4);
	free(p);
	rep(id, 'b', EH_DOWNLOAD_NAME_MAX - 1);
	id[EH_DOWNLOAD_NAME_MAX - 2] = '/';     /* 238 + "%2F": 241 */
	T_CHECK(eh_download_path(&cfg, id) == NULL);
	/* Final name, evidence name and temporary name fit NAME_MAX. */
	T_CHECK(EH_DOWNLOAD_NAME_MAX + strlen(".evidence.pdf") <= 255);
	T_CHECK(1 + EH_DOWNLOAD_NAME_MAX + 1 + 7 + 1 + 5 <= 255);
}

struct fx {
	char *root;
	char dir[512];
	struct eh_config rcfg;
	struct eh_ctl_config cfg;
	struct eh_record rec;
	struct eh_job job;
};

static void
fx_init(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	f->root = t_tmpdir();
	T_CHECK(f->root != NULL);
	snprintf(f->dir, sizeof(f->dir), "%s/dl", f->root);
	eh_config_init(&f->rcfg);
	f->rcfg.min_free = 0;
	eh_ctl_config_init(&f->cfg);
	f->cfg.download_dir = f->dir;
	f->cfg.onespan_api_key = API_KEY;
	f->rec.id = "20261122T113204.123456Z-0123456789abcdef";
	f->rec.provider = "onespan";
	f->rec.event = "PACKAGE_COMPLETE";
	f->rec.transaction_id = "5n4obeO8jYoPp126Cm-Y3fxdfbo=";
	f->job.rcfg = &f->rcfg;
	f->job.cfg = &f->cfg;
	f->job.rec = &f->rec;
	f->job.attempt = 1;
}

static void
fx_free(struct fx *f)
{
	t_rmtree(f->root);
	free(f->root);
}

/* Refusals before any request: permanent, nothing created. */
static void
run_refusals(void)
{
	static const char *nocreds = "download: no OneSpan credentials "
	    "(ESIGNHOOK_ONESPAN_API_KEY or _CLIENT_ID/_CLIENT_SECRET)";
	struct fx f;
	struct eh_onespan *api;
	char id[800];

	fx_init(&f);
	f.rec.provider = "alphatrust";
	T_EQ_INT(eh_download_run(&f.job), EH_RES_PERM);
	T_CHECK(strstr(f.job.error, "not a OneSpan event") != NULL);

	f.rec.provider = "onespan";
	f.rec.transaction_id = NULL;
	f.job.error[0] = '\0';
	T_EQ_INT(eh_download_run(&f.job), EH_RES_PERM);
	T_EQ_STR(f.job.error, "download: the event has no packageId");
	f.rec.transaction_id = "";
	T_EQ_INT(eh_download_run(&f.job), EH_RES_PERM);
	T_EQ_STR(f.job.error, "download: the event has no packageId");

	f.rec.transaction_id = "..";
	T_EQ_INT(eh_download_run(&f.job), EH_RES_PERM);
	T_CHECK(strstr(f.job.error, "not a package") != NULL);
	f.rec.transaction_id = ".";
	T_EQ_INT(eh_download_run(&f.job), EH_RES_PERM);
	T_CHECK(strstr(f.job.error, "not a package") != NULL);

	f.rec.transaction_id = "pkg";
	f.cfg.onespan_api_key = NULL;
	T_EQ_INT(eh_download_run(&f.job), EH_RES_PERM);
	T_EQ_STR(f.job.error, nocreds);
	/* A client id without its secret is no credential either. */
	f.cfg.onespan_client_id = "client-1";
	T_EQ_INT(eh_download_run(&f.job), EH_RES_PERM);
	T_EQ_STR(f.job.error, nocreds);
	f.cfg.onespan_client_id = NULL;
	f.cfg.onespan_client_secret = "secret-1";
	T_EQ_INT(eh_download_run(&f.job), EH_RES_PERM);
	T_EQ_STR(f.job.error, nocreds);
	f.cfg.onespan_client_secret = NULL;
	f.cfg.onespan_api_key = API_KEY;

	/* No client (a drainer bug): permanent, says so. */
	T_EQ_INT(eh_download_run(&f.job), EH_RES_PERM);
	T_CHECK(strstr(f.job.error, "no OneSpan API client") != NULL);

	/* Too long once encoded, even when the id itself is short. */
	T_EQ_INT(eh_onespan_new(&api, &f.cfg, NULL), 0);
	f.job.onespan = api;
	rep(id, '/', 81);
	f.rec.transaction_id = id;
	T_EQ_INT(eh_download_run(&f.job), EH_RES_PERM);
	T_EQ_STR(f.job.error, "download: packageId too long");
	rep(id, 'x', 255);
	T_EQ_INT(eh_download_run(&f.job), EH_RES_PERM);
	T_EQ_STR(f.job.error, "download: packageId too long");

	T_CHECK(access(f.dir, F_OK) != 0);
	T_CHECK(strstr(f.job.error, API_KEY) == NULL);
	eh_onespan_free(api);
	fx_free(&f);
}

/*
 * A real client against a port nobody listens on: a temporary failure,
 * the directory created 0700 and left empty; the same through OAuth,
 * whose token request fails first.
 */
static void
run_refused(void)
{
	struct fx f;
	struct eh_http *http;
	struct eh_onespan *api;
	struct stat st;
	int i;

	for (i = 0; i < 2; i++) {
		fx_init(&f);
		f.cfg.onespan_api = "http://127.0.0.1:1/api";
		if (i == 1) {
			f.cfg.onespan_api_key = NULL;
			f.cfg.onespan_client_id = "client-1";
			f.cfg.onespan_client_secret = "secretQz81";
		}
		T_EQ_INT(eh_http_new(&http, NULL), 0);
		T_EQ_INT(eh_onespan_new(&api, &f.cfg, http), 0);
		f.job.http = http;
		f.job.onespan = api;
		T_EQ_INT(eh_download_run(&f.job), EH_RES_TEMP);
		T_CHECK(strncmp(f.job.error, "download: documents/zip: ",
		    strlen("download: documents/zip: ")) == 0);
		if (i == 1)
			T_CHECK(strstr(f.job.error, "OneSpan token request") !=
			    NULL);
		T_CHECK(strstr(f.job.error, API_KEY) == NULL);
		T_CHECK(strstr(f.job.error, "secretQz81") == NULL);
		T_CHECK(stat(f.dir, &st) == 0 && S_ISDIR(st.st_mode) &&
		    (st.st_mode & 07777) == 0700);
		T_EQ_INT(t_count_files(f.dir), 0);
		eh_onespan_free(api);
		eh_http_free(http);
		fx_free(&f);
	}
	eh_onespan_free(NULL);
}

/* Create dir/name (a directory with dir_too), its mtime age_s ago. */
static void
put_aged(const char *dir, const char *name, long age_s, int dir_too)
{
	struct timespec ts[2];
	char path[1024];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (dir_too)
		T_EQ_INT(mkdir(path, 0700), 0);
	else {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		T_CHECK(fd >= 0 && write(fd, "PK", 2) == 2);
		if (fd >= 0)
			close(fd);
	}
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= age_s;
	ts[1] = ts[0];
	T_EQ_INT(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
}

static int
present(const char *dir, const char *name)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

/*
 * A drainer killed in a transfer leaves its dot-file; the next download
 * removes those over an hour old, and nothing else (a fresh one may be
 * another drainer's, running now).
 */
static void
run_stale_temps(void)
{
	static const struct {
		const char *name;
		long age_s;
		int dir, gone;
	} t[] = {
		{ ".5n4obeO8jYoPp126Cm-Y3fxdfbo=.4242.0a1f9", 7200, 0, 1 },
		{ ".other%2Fpkg.17.fffff", 3700, 0, 1 },
		{ ".pkg.4242.0a1fa", 600, 0, 0 },       /* still running */
		{ ".pkg.4242.0a1fb", 7200, 1, 0 },      /* a directory */
		{ ".keep", 7200, 0, 0 },
		{ ".pkg.4242.0A1FC", 7200, 0, 0 },      /* not our hex */
		{ ".pkg.42x2.0a1fd", 7200, 0, 0 },
		{ "..4242.0a1fe", 7200, 0, 0 },         /* no name */
		{ ".pkg.4242.0a1f", 7200, 0, 0 },       /* 4 hex */
		{ "pkg.zip", 7200, 0, 0 },
		{ "x.4242.0a1ff", 7200, 0, 0 },         /* not a dot-file */
	};
	struct fx f;
	struct eh_http *http;
	struct eh_onespan *api;
	size_t i;

	fx_init(&f);
	T_EQ_INT(mkdir(f.dir, 0700), 0);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		put_aged(f.dir, t[i].name, t[i].age_s, t[i].dir);
	f.cfg.onespan_api = "http://127.0.0.1:1/api";
	T_EQ_INT(eh_http_new(&http, NULL), 0);
	T_EQ_INT(eh_onespan_new(&api, &f.cfg, http), 0);
	f.job.http = http;
	f.job.onespan = api;
	T_EQ_INT(eh_download_run(&f.job), EH_RES_TEMP);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (present(f.dir, t[i].name) != !t[i].gone) {
			fprintf(stderr, "  %s: %s\n", t[i].name, t[i].gone ?
			    "left" : "removed");
			t_failed++;
		}
	eh_onespan_free(api);
	eh_http_free(http);
	fx_free(&f);
}

/* A missing parent is not created: temporary (the operator fixes it). */
static void
run_no_parent(void)
{
	struct fx f;
	struct eh_http *http;
	struct eh_onespan *api;

	fx_init(&f);
	snprintf(f.dir, sizeof(f.dir), "%s/no/such", f.root);
	f.cfg.onespan_api = "http://127.0.0.1:1/api";
	T_EQ_INT(eh_http_new(&http, NULL), 0);
	T_EQ_INT(eh_onespan_new(&api, &f.cfg, http), 0);
	f.job.onespan = api;
	T_EQ_INT(eh_download_run(&f.job), EH_RES_TEMP);
	T_CHECK(strstr(f.job.error, "ESIGNHOOK_DOWNLOAD_DIR") != NULL);
	T_EQ_INT(t_count_files(f.root), 0);
	eh_onespan_free(api);
	eh_http_free(http);
	fx_free(&f);
}

static void
no_credentials_call(void)
{
	struct eh_ctl_config cfg;
	struct eh_onespan *api;
	struct eh_http_resp resp;

	eh_ctl_config_init(&cfg);
	T_EQ_INT(eh_onespan_new(&api, &cfg, NULL), 0);
	T_EQ_INT(eh_register_show(api, &resp), -1);
	T_EQ_INT(resp.status, 0);
	T_CHECK(strstr(resp.error, "no OneSpan credentials") != NULL);
	eh_http_resp_free(&resp);
	eh_onespan_free(api);
}

static void
event_names(void)
{
	size_t i;

	for (i = 0; eh_onespan_event_names[i] != NULL; i++) {
		T_CHECK(eh_onespan_known(eh_onespan_event_names[i]));
		if (i > 0)
			T_CHECK(strcmp(eh_onespan_event_names[i - 1],
			    eh_onespan_event_names[i]) < 0);
	}
	/* The 22 of the callback table, and PACKAGE_OPT_OUT. */
	T_EQ_INT(i, 23);
	T_CHECK(eh_onespan_known("PACKAGE_OPT_OUT"));
	T_CHECK(eh_onespan_known("PACKAGE_COMPLETE"));
	T_CHECK(!eh_onespan_known("PACKAGE_NONSENSE"));
}

static void
register_body(void)
{
	static const char *const ev[] = { "PACKAGE_COMPLETE", "DOCUMENT_SIGNED" };
	char *out;
	json_t *j, *want;

	T_EQ_INT(eh_register_body(&out,
	    "https://example.com/esignhook/onespan", CB_KEY, ev, 2), 0);
	T_EQ_STR(out, "{\"url\":\"https://example.com/esignhook/onespan\","
	    "\"key\":\"" CB_KEY "\",\"events\":[\"PACKAGE_COMPLETE\","
	    "\"DOCUMENT_SIGNED\"]}");
	j = json_loads(out, 0, NULL);
	want = json_pack("{s:s, s:s, s:[s, s]}", "url",
	    "https://example.com/esignhook/onespan", "key", CB_KEY, "events",
	    "PACKAGE_COMPLETE", "DOCUMENT_SIGNED");
	T_CHECK(j != NULL && json_equal(j, want));
	json_decref(j);
	json_decref(want);
	free(out);

	T_EQ_INT(eh_register_body(&out, "https://h/x", NULL, ev, 0), 0);
	T_EQ_STR(out, "{\"url\":\"https://h/x\",\"events\":[]}");
	free(out);

	/* Quotes and backslashes escaped, never a broken object. */
	T_EQ_INT(eh_register_body(&out, "https://h/\"x\\", "k\"", ev, 1), 0);
	T_EQ_STR(out, "{\"url\":\"https://h/\\\"x\\\\\",\"key\":\"k\\\"\","
	    "\"events\":[\"PACKAGE_COMPLETE\"]}");
	free(out);

	T_EQ_INT(eh_register_body(&out, "https://h/\xff", CB_KEY, ev, 1), -1);
	T_CHECK(out == NULL);

	/* Every known event, as register does by default. */
	T_EQ_INT(eh_register_body(&out, "https://h/x", CB_KEY,
	    eh_onespan_event_names, 23), 0);
	j = json_loads(out, 0, NULL);
	T_EQ_INT(json_array_size(json_object_get(j, "events")), 23);
	json_decref(j);
	free(out);
}

static void
register_mask(void)
{
	static const struct {
		const char *in, *want;
	} t[] = {
		{ "{\"url\":\"https://h/x\",\"key\":\"" CB_KEY "\","
		    "\"events\":[\"PACKAGE_COMPLETE\"]}",
		    "{\n  \"url\": \"https://h/x\",\n  \"key\": \"****4d60\",\n"
		    "  \"events\": [\n    \"PACKAGE_COMPLETE\"\n  ]\n}" },
		/* 11 characters: nothing of it shown; 12: the last 4. */
		{ "{\"key\":\"abcdefghijk\"}", "{\n  \"key\": \"****\"\n}" },
		{ "{\"key\":\"abcdefghijkl\"}", "{\n  \"key\": \"****ijkl\"\n}" },
		{ "{\"key\":\"\"}", "{\n  \"key\": \"****\"\n}" },
		/* Characters, not bytes. */
		{ "{\"key\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}",
		    "{\n  \"key\": \"****\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"\n}" },
		{ "{\"key\":null,\"url\":\"u\"}",
		    "{\n  \"key\": null,\n  \"url\": \"u\"\n}" },
		{ "{\"url\":\"u\"}", "{\n  \"url\": \"u\"\n}" },
		/* Nested too. */
		{ "{\"callback\":{\"key\":\"" CB_KEY "\"}}",
		    "{\n  \"callback\": {\n    \"key\": \"****4d60\"\n  }\n}" },
		{ "{\"list\":[{\"key\":\"" CB_KEY "\"}]}",
		    "{\n  \"list\": [\n    {\n      \"key\": \"****4d60\"\n"
		    "    }\n  ]\n}" },
	};
	static const char *const bad[] = {
		"", "not json", "[{\"key\":\"" CB_KEY "\"}]", "\"" CB_KEY "\"",
		"{\"key\":\"a\",\"key\":\"b\"}",
	};
	size_t i;
	char *out;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		T_EQ_INT(eh_register_mask(&out, t[i].in, strlen(t[i].in)), 0);
		T_EQ_STR(out, t[i].want);
		T_CHECK(out == NULL || strstr(out, CB_KEY) == NULL);
		T_CHECK(out == NULL || strstr(out, "efghijk") == NULL);
		free(out);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		T_EQ_INT(eh_register_mask(&out, bad[i], strlen(bad[i])), -1);
		T_CHECK(out == NULL);
	}
}

const struct t_case t_download[] = {
	{ "eh_download_name table", name_table },
	{ "eh_download_name: no '/', no dot-file, one-to-one", name_properties },
	{ "eh_url_escape table", url_escape_table },
	{ "eh_download_path", path },
	{ "run: refusals before any request are permanent", run_refusals },
	{ "run: connection refused is temporary, nothing left", run_refused },
	{ "run: download dir's parent missing: temporary", run_no_parent },
	{ "run: a dead drainer's temporaries over an hour old go",
	    run_stale_temps },
	{ "eh_onespan_call without credentials", no_credentials_call },
	{ "eh_onespan_event_names", event_names },
	{ "eh_register_body", register_body },
	{ "eh_register_mask", register_mask },
	{ NULL, NULL },
};
