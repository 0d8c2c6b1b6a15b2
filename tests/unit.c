/*
 * The unit test runner: every lib/ module's table of tests, run in
 * order; a failure is reported and the run goes on.  Ends with
 * "N passed, N failed" and exits 1 if any failed.
 * Run one module: ./tests/unit form   (or several names).
 */
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "t.h"

int t_failed;

static const struct {
	const char *module;
	const struct t_case *cases;
} suites[] = {
	{ "err", t_err },
	{ "form", t_form },
	{ "onespan", t_onespan },
	{ "alphatrust", t_alphatrust },
	{ "record", t_record },
	{ "config", t_config },
	{ "body", t_body },
	{ "handler", t_handler },
	{ "spool", t_spool },
	{ "serve", t_serve },
	{ "log", t_log },
	{ "hostile", t_hostile },
	{ "ctlconfig", t_ctlconfig },
	{ "queue", t_queue },
	{ "forward", t_forward },
	{ "exec", t_exec },
	{ "download", t_download },
	{ "view", t_view },
	{ "oauth", t_oauth },
	{ "multipart", t_multipart },
	{ "nats", t_nats },
	{ "journal", t_journal },
};

const char *
t_kv_lookup(void *ctx, const char *key)
{
	const struct t_kv *p;

	for (p = ctx; p->k != NULL; p++)
		if (strcmp(p->k, key) == 0)
			return p->v;
	return NULL;
}

char *
t_read_file(const char *path, size_t *len)
{
	FILE *f;
	char *buf;
	long n;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	if (n < 0 || (buf = malloc((size_t)n + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	*len = fread(buf, 1, (size_t)n, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

char *
t_tmpdir(void)
{
	char tmpl[] = "/tmp/eh-unit-XXXXXX";
	char *d = mkdtemp(tmpl);

	return d != NULL ? strdup(d) : NULL;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	chmod(path, 0700);
	return remove(path);
}

void
t_rmtree(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

unsigned long
t_count_files(const char *dir)
{
	DIR *d;
	struct dirent *de;
	unsigned long n = 0;

	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static int
wanted(int argc, char *argv[], const char *module)
{
	int i;

	if (argc < 2)
		return 1;
	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], module) == 0)
			return 1;
	return 0;
}

int
main(int argc, char *argv[])
{
	size_t s, i;
	unsigned passed = 0, failed = 0;

	if (sodium_init() < 0)
		return 2;
	/* Tests open files relative to the top of the tree. */
	if (access("tests/data", F_OK) != 0 && chdir("..") != 0)
		return 2;
	for (s = 0; s < sizeof(suites) / sizeof(suites[0]); s++) {
		if (!wanted(argc, argv, suites[s].module))
			continue;
		for (i = 0; suites[s].cases[i].name != NULL; i++) {
			t_failed = 0;
			suites[s].cases[i].fn();
			if (t_failed) {
				printf("FAIL %s: %s\n", suites[s].module,
				    suites[s].cases[i].name);
				failed++;
			} else {
				printf("ok   %s: %s\n", suites[s].module,
				    suites[s].cases[i].name);
				passed++;
			}
			fflush(stdout);
		}
	}
	printf("unit: %u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
