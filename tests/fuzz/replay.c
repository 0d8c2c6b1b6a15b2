/*
 * Runs a fuzz target over files and directories of inputs without
 * libFuzzer, so `make check` exercises every target on its corpus (with
 * the sanitizers in `make check-san`).  Ends "fuzz-<t>: N passed, N failed":
 * an input that crashes ends the process, and the missing line fails
 * the suite.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fuzz.h"

static unsigned long ran;

static int
run_file(const char *path)
{
	FILE *fp;
	long n;
	unsigned char *buf;

	if ((fp = fopen(path, "rb")) == NULL)
		return -1;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	if (n < 0 || (buf = malloc((size_t)n + 1)) == NULL) {
		fclose(fp);
		return -1;
	}
	if (fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		free(buf);
		fclose(fp);
		return -1;
	}
	fclose(fp);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	ran++;
	return 0;
}

static int
run_path(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	char sub[4096];
	int bad = 0;

	if (stat(path, &st) != 0)
		return 1;
	if (!S_ISDIR(st.st_mode))
		return run_file(path) != 0;
	if ((d = opendir(path)) == NULL)
		return 1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		bad += run_path(sub);
	}
	closedir(d);
	return bad;
}

int
main(int argc, char *argv[])
{
	int i, bad = 0;

	if (sodium_init() < 0 || argc < 3)
		return 2;
	for (i = 2; i < argc; i++)
		bad += run_path(argv[i]);
	printf("fuzz-%s: %lu passed, %d failed\n", argv[1], ran, bad);
	return bad ? 1 : 0;
}
