/*
 * The NATS benchmark's baseline (bench/nats.sh): raw libnats JetStream
 * publishing of the same payloads the drain publishes, the way the
 * publish action does it, and nothing else: for each record file of
 * DIR in name order, read it, one synchronous js_PublishMsg with the
 * same headers (Nats-Msg-Id: the file's id, Esignhook-Event,
 * Esignhook-Provider) and the same ExpectStream, waiting for the
 * PubAck.  No claim, no rename, no fsync.  Prints the messages
 * acknowledged and the seconds.
 *   cc -O2 -o nats-raw nats-raw.c -lnats
 *   nats-raw URL STREAM publish DIR SUBJECT EVENT PROVIDER
 *   nats-raw URL STREAM delete
 * URL: one server or a comma-separated list.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char *argv[])
{
	static char buf[1 << 20];
	const char *srv[16];
	char path[4096], id[256], *url, *p, *next, **names = NULL;
	natsConnection *nc = NULL;
	natsOptions *o = NULL;
	jsCtx *js = NULL;
	jsOptions jo;
	jsPubOptions po;
	jsErrCode je = 0;
	natsStatus s;
	struct dirent *de;
	DIR *d;
	size_t nn = 0, cap = 0, i, len;
	ssize_t got;
	double t0, t1;
	long acked = 0;
	int fd, n = 0;

	if (argc < 4)
		return 64;
	url = argv[1];
	for (p = url; p != NULL && n < 16; p = next) {
		next = strchr(p, ',');
		if (next != NULL)
			*next++ = '\0';
		srv[n++] = p;
	}
	s = natsOptions_Create(&o);
	if (s == NATS_OK)
		s = natsOptions_SetServers(o, srv, n);
	if (s == NATS_OK)
		s = natsConnection_Connect(&nc, o);
	jsOptions_Init(&jo);
	jo.Wait = 5000;
	if (s == NATS_OK)
		s = natsConnection_JetStream(&js, nc, &jo);
	if (s != NATS_OK) {
		fprintf(stderr, "nats-raw: connect: %s\n", natsStatus_GetText(s));
		return 1;
	}
	if (strcmp(argv[3], "delete") == 0) {
		s = js_DeleteStream(js, argv[2], NULL, &je);
		if (s != NATS_OK && je != JSStreamNotFoundErr) {
			fprintf(stderr, "nats-raw: delete: %s (%d)\n",
			    natsStatus_GetText(s), (int)je);
			return 1;
		}
		return 0;
	}
	if (strcmp(argv[3], "publish") != 0 || argc < 8)
		return 64;
	d = opendir(argv[4]);
	if (d == NULL) {
		perror(argv[4]);
		return 1;
	}
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len < 6 ||
		    strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		if (nn == cap) {
			cap = cap ? 2 * cap : 1024;
			names = realloc(names, cap * sizeof(*names));
			if (names == NULL)
				return 1;
		}
		names[nn++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, nn, sizeof(*names), by_name);
	jsPubOptions_Init(&po);
	po.MaxWait = 5000;
	po.ExpectStream = argv[2];
	t0 = now();
	for (i = 0; i < nn; i++) {
		natsMsg *m = NULL;
		jsPubAck *pa = NULL;

		snprintf(path, sizeof(path), "%s/%s", argv[4], names[i]);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		got = read(fd, buf, sizeof(buf));
		close(fd);
		if (got <= 0)
			continue;
		len = strlen(names[i]) - 5;
		snprintf(id, sizeof(id), "%.*s", (int)len, names[i]);
		s = natsMsg_Create(&m, argv[5], NULL, buf, (int)got);
		if (s == NATS_OK)
			s = natsMsgHeader_Set(m, "Nats-Msg-Id", id);
		if (s == NATS_OK)
			s = natsMsgHeader_Set(m, "Esignhook-Event", argv[6]);
		if (s == NATS_OK)
			s = natsMsgHeader_Set(m, "Esignhook-Provider", argv[7]);
		if (s == NATS_OK)
			s = js_PublishMsg(&pa, js, m, &po, &je);
		if (s == NATS_OK)
			acked++;
		else
			fprintf(stderr, "nats-raw: %s: %s (%d)\n", id,
			    natsStatus_GetText(s), (int)je);
		jsPubAck_Destroy(pa);
		natsMsg_Destroy(m);
	}
	t1 = now();
	printf("%ld %.3f\n", acked, t1 - t0);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	natsOptions_Destroy(o);
	return acked == (long)nn ? 0 : 1;
}
