/*
 * The drain benchmark's baseline: the least a drainer must do per event
 * to move it durably from new/ through cur/ to done/ under an exclusive
 * claim, and nothing else: open, flock, rename into cur/, fsync cur/,
 * read the record, rename into done/, fsync done/.  With a URL, also one
 * libcurl POST of the record per event on a reused handle (what a
 * forward costs at least).  Prints the events moved and the seconds.
 *   cc -O2 -o drain-ceiling drain-ceiling.c -lcurl
 *   drain-ceiling SPOOL [URL]
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

static size_t
discard(char *p, size_t sz, size_t n, void *ctx)
{
	(void)p;
	(void)ctx;
	return sz * n;
}

int
main(int argc, char *argv[])
{
	char path[4096], buf[65536];
	struct timespec t0, t1;
	struct dirent *de;
	CURL *curl = NULL;
	DIR *d;
	int nfd, cfd, dfd, fd;
	long n = 0;
	ssize_t len;

	if (argc < 2)
		return 64;
	snprintf(path, sizeof(path), "%s/new", argv[1]);
	nfd = open(path, O_RDONLY | O_DIRECTORY);
	snprintf(path, sizeof(path), "%s/cur", argv[1]);
	mkdir(path, 0700);
	cfd = open(path, O_RDONLY | O_DIRECTORY);
	snprintf(path, sizeof(path), "%s/done", argv[1]);
	mkdir(path, 0700);
	dfd = open(path, O_RDONLY | O_DIRECTORY);
	if (nfd < 0 || cfd < 0 || dfd < 0 || (d = fdopendir(dup(nfd))) == NULL)
		return 1;
	if (argc > 2) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		curl = curl_easy_init();
		curl_easy_setopt(curl, CURLOPT_URL, argv[2]);
		curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		fd = openat(nfd, de->d_name, O_RDONLY);
		if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0 ||
		    renameat(nfd, de->d_name, cfd, de->d_name) != 0 ||
		    fsync(cfd) != 0)
			return 1;
		len = read(fd, buf, sizeof(buf));
		if (len < 0)
			return 1;
		if (curl != NULL) {
			curl_easy_setopt(curl, CURLOPT_POSTFIELDS, buf);
			curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)len);
			if (curl_easy_perform(curl) != CURLE_OK)
				return 1;
		}
		if (renameat(cfd, de->d_name, dfd, de->d_name) != 0 ||
		    fsync(dfd) != 0)
			return 1;
		close(fd);
		n++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%ld %.6f\n", n, (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return 0;
}
