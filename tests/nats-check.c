/*
 * nats-check: what a JetStream stream holds, for the NATS suites
 * (tests/nats-lib.sh builds it with cc ... -lnats -lsodium), since
 * Debian packages no nats CLI.
 *
 *   nats-check URL STREAM msgs
 *	one line per message, from the first sequence to the last:
 *	"SEQ MSGID SUBJECT SHA256 EVENT PROVIDER" (a missing header
 *	is "-"), read with the stream's get-message API
 *   nats-check URL STREAM info
 *	"msgs N first F last L replicas R dup_ms D storage file|memory
 *	subjects S,S leader NAME current C" (C: the replicas that are
 *	current, the leader included)
 *   nats-check URL STREAM consumer NAME
 *	"pending P ack_pending A redelivered R waiting W delivered D
 *	ack_floor F"
 *   nats-check URL STREAM mkstream SUBJECT KIND
 *	creates STREAM on SUBJECT, file storage, shaped by KIND:
 *	interest, workqueue (retention), noack, maxage (1h, discard
 *	old), dup7d (duplicate window 7 days), plain
 *   nats-check URL - respond SUBJECT
 *	a plain NATS subscriber on SUBJECT (no JetStream) answering
 *	every request "{}", as a stray service would; prints "ready"
 *	once subscribed, runs until killed
 *
 * URL may carry credentials as NATS URLs do (nats://token@h:p,
 * nats://user:pass@h:p) and may list several servers, comma-separated.
 * Exit 0, 1 on a NATS error (one line on stderr), 64 on usage.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nats/nats.h>
#include <sodium.h>

static const char *
hdr(natsMsg *m, const char *key)
{
	const char *v = NULL;

	if (natsMsgHeader_Get(m, key, &v) != NATS_OK || v == NULL || *v == '\0')
		return "-";
	return v;
}

/*
 * One message by sequence; NATS_NOT_FOUND for a deleted one.  A stream
 * whose leader is being elected answers nothing for a moment: retried
 * for up to ten seconds.
 */
static natsStatus
get_msg(natsMsg **m, jsCtx *js, const char *stream, uint64_t seq)
{
	natsStatus s = NATS_OK;
	jsErrCode jerr;
	int i;

	for (i = 0; i < 50; i++) {
		jerr = 0;
		s = js_GetMsg(m, js, stream, seq, NULL, &jerr);
		if (s == NATS_OK || s == NATS_NOT_FOUND ||
		    jerr == JSNoMessageFoundErr)
			return s == NATS_OK ? s : NATS_NOT_FOUND;
		usleep(200000);
	}
	return s;
}

static natsStatus
stream_info(jsStreamInfo **si, jsCtx *js, const char *stream)
{
	natsStatus s = NATS_OK;
	jsErrCode jerr;
	int i;

	for (i = 0; i < 50; i++) {
		jerr = 0;
		s = js_GetStreamInfo(si, js, stream, NULL, &jerr);
		if (s == NATS_OK || jerr == JSStreamNotFoundErr)
			return s;
		usleep(200000);
	}
	return s;
}

static int
cmd_msgs(jsCtx *js, const char *stream)
{
	unsigned char h[crypto_hash_sha256_BYTES];
	char hex[2 * sizeof(h) + 1];
	jsStreamInfo *si = NULL;
	natsMsg *m;
	natsStatus s;
	uint64_t seq, last;

	s = stream_info(&si, js, stream);
	if (s != NATS_OK) {
		fprintf(stderr, "nats-check: stream %s: %s\n", stream,
		    natsStatus_GetText(s));
		return 1;
	}
	seq = si->State.FirstSeq;
	last = si->State.LastSeq;
	jsStreamInfo_Destroy(si);
	if (seq == 0)
		seq = 1;
	for (; seq <= last; seq++) {
		m = NULL;
		s = get_msg(&m, js, stream, seq);
		if (s == NATS_NOT_FOUND)
			continue;
		if (s != NATS_OK) {
			fprintf(stderr, "nats-check: message %" PRIu64 ": %s\n",
			    seq, natsStatus_GetText(s));
			return 1;
		}
		crypto_hash_sha256(h,
		    (const unsigned char *)natsMsg_GetData(m),
		    (unsigned long long)natsMsg_GetDataLength(m));
		sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
		printf("%" PRIu64 " %s %s %s %s %s\n", seq,
		    hdr(m, "Nats-Msg-Id"), natsMsg_GetSubject(m), hex,
		    hdr(m, "Esignhook-Event"), hdr(m, "Esignhook-Provider"));
		natsMsg_Destroy(m);
	}
	return 0;
}

static int
cmd_info(jsCtx *js, const char *stream)
{
	jsStreamInfo *si = NULL;
	jsStreamConfig *c;
	natsStatus s;
	int i, current = 0;

	s = stream_info(&si, js, stream);
	if (s != NATS_OK) {
		fprintf(stderr, "nats-check: stream %s: %s\n", stream,
		    natsStatus_GetText(s));
		return 1;
	}
	c = si->Config;
	printf("msgs %" PRIu64 " first %" PRIu64 " last %" PRIu64
	    " replicas %" PRId64 " dup_ms %" PRId64 " storage %s subjects ",
	    si->State.Msgs, si->State.FirstSeq, si->State.LastSeq,
	    c->Replicas, c->Duplicates / 1000000,
	    c->Storage == js_FileStorage ? "file" : "memory");
	for (i = 0; i < c->SubjectsLen; i++)
		printf("%s%s", i ? "," : "", c->Subjects[i]);
	if (si->Cluster != NULL && si->Cluster->Leader != NULL) {
		current = 1;
		for (i = 0; i < si->Cluster->ReplicasLen; i++)
			if (si->Cluster->Replicas[i]->Current &&
			    !si->Cluster->Replicas[i]->Offline)
				current++;
	}
	printf(" leader %s current %d\n", si->Cluster != NULL &&
	    si->Cluster->Leader != NULL ? si->Cluster->Leader : "-", current);
	jsStreamInfo_Destroy(si);
	return 0;
}

static int
cmd_consumer(jsCtx *js, const char *stream, const char *name)
{
	jsConsumerInfo *ci = NULL;
	jsErrCode jerr = 0;
	natsStatus s;

	s = js_GetConsumerInfo(&ci, js, stream, name, NULL, &jerr);
	if (s != NATS_OK) {
		fprintf(stderr, "nats-check: consumer %s: %s\n", name,
		    natsStatus_GetText(s));
		return 1;
	}
	printf("pending %" PRIu64 " ack_pending %" PRId64 " redelivered %"
	    PRId64 " waiting %" PRId64 " delivered %" PRIu64 " ack_floor %"
	    PRIu64 "\n", ci->NumPending, ci->NumAckPending,
	    ci->NumRedelivered, ci->NumWaiting, ci->Delivered.Stream,
	    ci->AckFloor.Stream);
	jsConsumerInfo_Destroy(ci);
	return 0;
}

static int
cmd_mkstream(jsCtx *js, const char *stream, const char *subject,
    const char *kind)
{
	jsStreamInfo *si = NULL;
	jsStreamConfig sc;
	jsErrCode jerr = 0;
	const char *subj[1];
	natsStatus s;

	jsStreamConfig_Init(&sc);
	subj[0] = subject;
	sc.Name = stream;
	sc.Subjects = subj;
	sc.SubjectsLen = 1;
	sc.Storage = js_FileStorage;
	sc.Duplicates = 2LL * 60 * 1000000000;
	if (strcmp(kind, "interest") == 0)
		sc.Retention = js_InterestPolicy;
	else if (strcmp(kind, "workqueue") == 0)
		sc.Retention = js_WorkQueuePolicy;
	else if (strcmp(kind, "noack") == 0)
		sc.NoAck = true;
	else if (strcmp(kind, "maxage") == 0) {
		sc.MaxAge = 3600LL * 1000000000;
		sc.Discard = js_DiscardOld;
	} else if (strcmp(kind, "dup7d") == 0)
		sc.Duplicates = 7LL * 24 * 3600 * 1000000000;
	else if (strcmp(kind, "plain") != 0)
		return 64;
	s = js_AddStream(&si, js, &sc, NULL, &jerr);
	jsStreamInfo_Destroy(si);
	if (s != NATS_OK) {
		fprintf(stderr, "nats-check: add stream %s: %s (%d)\n", stream,
		    natsStatus_GetText(s), (int)jerr);
		return 1;
	}
	return 0;
}

static void
answer(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *ctx)
{
	(void)sub;
	(void)ctx;
	if (natsMsg_GetReply(m) != NULL)
		(void)natsConnection_PublishString(nc, natsMsg_GetReply(m),
		    "{}");
	natsMsg_Destroy(m);
}

static int
cmd_respond(natsConnection *nc, const char *subject)
{
	natsSubscription *sub = NULL;

	if (natsConnection_Subscribe(&sub, nc, subject, answer, NULL) !=
	    NATS_OK || natsConnection_Flush(nc) != NATS_OK)
		return 1;
	printf("ready\n");
	fflush(stdout);
	for (;;)
		sleep(10);
}

/*
 * URL, a comma-separated list, as the server list: libnats 3.4's
 * natsOptions_SetURL takes one URL only (a list there fails with "No
 * server available for connection").
 */
static natsStatus
set_servers(natsOptions *o, char *url)
{
	const char *srv[16];
	char *p, *next;
	int n = 0;

	for (p = url; p != NULL && n < 16; p = next) {
		next = strchr(p, ',');
		if (next != NULL)
			*next++ = '\0';
		while (*p == ' ')
			p++;
		if (*p != '\0')
			srv[n++] = p;
	}
	return natsOptions_SetServers(o, srv, n);
}

int
main(int argc, char *argv[])
{
	natsConnection *nc = NULL;
	natsOptions *o = NULL;
	jsCtx *js = NULL;
	natsStatus s;
	int rc = 1;

	if (argc < 4 || (strcmp(argv[3], "consumer") == 0 && argc < 5) ||
	    (strcmp(argv[3], "respond") == 0 && argc < 5) ||
	    (strcmp(argv[3], "mkstream") == 0 && argc < 6)) {
		fprintf(stderr, "usage: nats-check URL STREAM "
		    "msgs|info|consumer NAME|mkstream SUBJECT KIND|"
		    "respond SUBJECT\n");
		return 64;
	}
	if (sodium_init() < 0)
		return 1;
	s = natsOptions_Create(&o);
	if (s == NATS_OK)
		s = set_servers(o, argv[1]);
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(o, 2000);
	if (s == NATS_OK)
		s = natsConnection_Connect(&nc, o);
	if (s == NATS_OK)
		s = natsConnection_JetStream(&js, nc, NULL);
	if (s != NATS_OK) {
		fprintf(stderr, "nats-check: connect: %s\n",
		    natsStatus_GetText(s));
		goto out;
	}
	if (strcmp(argv[3], "msgs") == 0)
		rc = cmd_msgs(js, argv[2]);
	else if (strcmp(argv[3], "info") == 0)
		rc = cmd_info(js, argv[2]);
	else if (strcmp(argv[3], "consumer") == 0)
		rc = cmd_consumer(js, argv[2], argv[4]);
	else if (strcmp(argv[3], "mkstream") == 0)
		rc = cmd_mkstream(js, argv[2], argv[4], argv[5]);
	else if (strcmp(argv[3], "respond") == 0)
		rc = cmd_respond(nc, argv[4]);
	else
		rc = 64;
out:
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	natsOptions_Destroy(o);
	nats_Close();
	return rc;
}
