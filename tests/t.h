/*
 * A minimal table-driven test harness: each test file exports an array
 * of { name, fn } ended by { NULL, NULL }; tests/unit.c runs them all,
 * keeps going after a failure and ends with "N passed, N failed".
 */
#ifndef EH_T_H
#define EH_T_H

#include <stdio.h>
#include <string.h>

struct t_case {
	const char *name;
	void (*fn)(void);
};

/* Failures in the test being run; the runner resets it per test. */
extern int t_failed;

#define T_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "  %s:%d: check failed: %s\n",		\
		    __FILE__, __LINE__, #cond);				\
		t_failed++;						\
	}								\
} while (0)

#define T_EQ_INT(a, b) do {						\
	long long t_a_ = (long long)(a), t_b_ = (long long)(b);	\
	if (t_a_ != t_b_) {						\
		fprintf(stderr, "  %s:%d: %s == %lld, expected %lld\n",	\
		    __FILE__, __LINE__, #a, t_a_, t_b_);		\
		t_failed++;						\
	}								\
} while (0)

#define T_EQ_STR(a, b) do {						\
	const char *t_a_ = (a), *t_b_ = (b);				\
	if (t_a_ == NULL || t_b_ == NULL || strcmp(t_a_, t_b_) != 0) {	\
		fprintf(stderr, "  %s:%d: %s == \"%s\", expected \"%s\"\n", \
		    __FILE__, __LINE__, #a, t_a_ ? t_a_ : "(null)",	\
		    t_b_ ? t_b_ : "(null)");				\
		t_failed++;						\
	}								\
} while (0)

/* Helpers shared by the test files (tests/unit.c). */
/* A configuration source for tests: { key, value } pairs ended by NULL;
 * t_kv_lookup is its eh_lookup_fn. */
struct t_kv {
	const char *k, *v;
};
const char *t_kv_lookup(void *ctx, const char *key);
char *t_read_file(const char *path, size_t *len);
char *t_tmpdir(void);
void t_rmtree(const char *path);
unsigned long t_count_files(const char *dir);

extern const struct t_case t_form[], t_onespan[], t_alphatrust[],
    t_record[], t_config[], t_spool[], t_body[], t_handler[], t_serve[],
    t_log[], t_err[], t_hostile[], t_queue[], t_ctlconfig[];
extern const struct t_case t_forward[];
extern const struct t_case t_exec[];
extern const struct t_case t_download[];
extern const struct t_case t_view[];
extern const struct t_case t_oauth[], t_multipart[];
extern const struct t_case t_nats[];
extern const struct t_case t_journal[];

#endif
