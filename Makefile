# esignhook: GNU make.
#   make deps     install the Debian packages the build and the tests need
#   make          build cgi/esignhook (the receiver) and cgi/esignhookctl
#                 (the operator tool)
#   make check    every test (unit, end to end, real servers)
#   make check-san     unit + end-to-end tests again under ASan+UBSan
#   make check-valgrind  unit tests under valgrind
#   make install  (PREFIX, DESTDIR, BINDIR, MANDIR honoured)

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DESTDIR ?=

CC ?= cc
CFLAGS ?= -O2 -g
LDFLAGS ?=
WARN = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wvla
PKG_CFLAGS := $(shell pkg-config --cflags jansson libsodium fcgi 2>/dev/null)
LIB_LIBS := $(shell pkg-config --libs jansson libsodium 2>/dev/null || \
	echo -ljansson -lsodium)
FCGI_LIBS := $(shell pkg-config --libs fcgi 2>/dev/null || echo -lfcgi)
CURL_LIBS := $(shell pkg-config --libs libcurl 2>/dev/null || echo -lcurl)
NATS_LIBS := $(shell pkg-config --libs libnats 2>/dev/null || echo -lnats)
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(PKG_CFLAGS) $(CFLAGS)
HARDEN = -fstack-protector-strong -D_FORTIFY_SOURCE=2
SAN_FLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all

# SAN=1: build the default tree with the sanitizers too.
ifeq ($(SAN),1)
HARDEN = $(SAN_FLAGS)
LDFLAGS += -fsanitize=address,undefined
endif

LIB_SRCS = lib/err.c lib/form.c lib/onespan.c lib/alphatrust.c \
	lib/record.c lib/config.c lib/spool.c lib/body.c lib/handler.c \
	lib/serve.c lib/log.c lib/util.c lib/ctlconfig.c lib/oauth.c \
	lib/multipart.c lib/natsubj.c lib/journal.c
# The operator tool's modules: a library of their own, so that the
# receiver never links libcurl or libnats.
CTL_SRCS = lib/queue.c lib/drain.c lib/inject.c lib/http.c lib/forward.c lib/exec.c lib/osapi.c lib/download.c lib/register.c lib/view.c lib/nats.c
TEST_SRCS = tests/unit.c tests/test-err.c tests/test-form.c \
	tests/test-onespan.c tests/test-alphatrust.c tests/test-record.c \
	tests/test-config.c tests/test-body.c tests/test-handler.c \
	tests/test-spool.c tests/test-serve.c tests/test-log.c \
	tests/test-hostile.c tests/test-queue.c tests/test-ctlconfig.c tests/test-forward.c tests/test-exec.c tests/test-download.c tests/test-view.c \
	tests/test-oauth.c tests/test-multipart.c tests/test-nats.c \
	tests/test-journal.c
HEADERS = lib/esignhook.h lib/extern.h

# Objects live under build/<tree>/; the default tree's binaries are
# cgi/esignhook and tests/unit, the sanitizer tree's build/san/*.
OBJ = build/obj
SAN_OBJ = build/san
objs = $(patsubst %.c,$(1)/%.o,$(2))

FUZZ_TARGETS = form onespan alphatrust config handler record oauth
FUZZ_SECONDS ?= 60
REPLAYS = $(patsubst %,$(OBJ)/replay-%,$(FUZZ_TARGETS))
SAN_REPLAYS = $(patsubst %,$(SAN_OBJ)/replay-%,$(FUZZ_TARGETS))

.SECONDARY:

.PHONY: all check check-san check-valgrind unit install uninstall clean \
	bench bench-deps profile lint deps run fuzz

all: cgi/esignhook cgi/esignhookctl

$(OBJ)/%.o: %.c $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(HARDEN) -c -o $@ $<

$(SAN_OBJ)/%.o: %.c $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -c -o $@ $<

$(call objs,$(OBJ),$(TEST_SRCS)) $(call objs,$(SAN_OBJ),$(TEST_SRCS)): tests/t.h
$(OBJ)/cgi/esignhook.o $(OBJ)/cgi/sandbox.o $(SAN_OBJ)/cgi/esignhook.o \
	$(SAN_OBJ)/cgi/sandbox.o: cgi/sandbox.h
$(call objs,$(OBJ),$(CTL_MAIN)) $(call objs,$(SAN_OBJ),$(CTL_MAIN)): cgi/ctl.h

$(OBJ)/libesignhook.a: $(call objs,$(OBJ),$(LIB_SRCS))
	$(AR) rcs $@ $^
$(SAN_OBJ)/libesignhook.a: $(call objs,$(SAN_OBJ),$(LIB_SRCS))
	$(AR) rcs $@ $^
$(OBJ)/libesignhookctl.a: $(call objs,$(OBJ),$(CTL_SRCS))
	$(AR) rcs $@ $^
$(SAN_OBJ)/libesignhookctl.a: $(call objs,$(SAN_OBJ),$(CTL_SRCS))
	$(AR) rcs $@ $^

cgi/esignhook: $(OBJ)/cgi/esignhook.o $(OBJ)/cgi/sandbox.o \
		$(OBJ)/libesignhook.a
	$(CC) $(LDFLAGS) -o $@ $^ $(FCGI_LIBS) $(LIB_LIBS) -lseccomp -lpthread
CTL_MAIN = cgi/esignhookctl.c cgi/ctl-view.c cgi/ctl-nats.c
cgi/esignhookctl: $(call objs,$(OBJ),$(CTL_MAIN)) $(OBJ)/libesignhookctl.a \
		$(OBJ)/libesignhook.a
	$(CC) $(LDFLAGS) -o $@ $^ $(CURL_LIBS) $(NATS_LIBS) $(LIB_LIBS)
tests/unit: $(call objs,$(OBJ),$(TEST_SRCS)) $(OBJ)/libesignhookctl.a \
		$(OBJ)/libesignhook.a
	$(CC) $(LDFLAGS) -o $@ $^ $(CURL_LIBS) $(NATS_LIBS) $(LIB_LIBS)

$(SAN_OBJ)/esignhook: $(SAN_OBJ)/cgi/esignhook.o $(SAN_OBJ)/cgi/sandbox.o \
		$(SAN_OBJ)/libesignhook.a
	$(CC) $(LDFLAGS) -fsanitize=address,undefined -o $@ $^ $(FCGI_LIBS) \
		$(LIB_LIBS) -lseccomp -lpthread
$(SAN_OBJ)/esignhookctl: $(call objs,$(SAN_OBJ),$(CTL_MAIN)) \
		$(SAN_OBJ)/libesignhookctl.a $(SAN_OBJ)/libesignhook.a
	$(CC) $(LDFLAGS) -fsanitize=address,undefined -o $@ $^ $(CURL_LIBS) \
		$(NATS_LIBS) $(LIB_LIBS)
$(SAN_OBJ)/unit: $(call objs,$(SAN_OBJ),$(TEST_SRCS)) \
		$(SAN_OBJ)/libesignhookctl.a $(SAN_OBJ)/libesignhook.a
	$(CC) $(LDFLAGS) -fsanitize=address,undefined -o $@ $^ $(CURL_LIBS) \
		$(NATS_LIBS) $(LIB_LIBS)

# Fuzz targets: replayed over their corpora in make check, run by
# libFuzzer (clang) in make fuzz.
$(OBJ)/replay-%: $(OBJ)/tests/fuzz/replay.o $(OBJ)/tests/fuzz/fuzz-%.o \
		$(OBJ)/libesignhook.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIB_LIBS)
$(SAN_OBJ)/replay-%: $(SAN_OBJ)/tests/fuzz/replay.o \
		$(SAN_OBJ)/tests/fuzz/fuzz-%.o $(SAN_OBJ)/libesignhook.a
	$(CC) $(LDFLAGS) -fsanitize=address,undefined -o $@ $^ $(LIB_LIBS)
build/fuzz/fuzz-%: tests/fuzz/fuzz-%.c $(LIB_SRCS) $(HEADERS)
	@mkdir -p $(@D)
	clang -std=c11 -D_GNU_SOURCE $(WARN) $(PKG_CFLAGS) -O1 -g \
		-fsanitize=fuzzer,address,undefined -o $@ $< $(LIB_SRCS) \
		$(LIB_LIBS)

# Each target for FUZZ_SECONDS, from a copy of its corpus (new inputs
# stay in build/fuzz/; crashes land there as crash-*).
fuzz: $(patsubst %,build/fuzz/fuzz-%,$(FUZZ_TARGETS))
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p build/fuzz/corpus-$$t; \
		cp -n tests/fuzz/corpus/$$t/* build/fuzz/corpus-$$t/; \
		echo "== fuzz-$$t for $(FUZZ_SECONDS) s"; \
		./build/fuzz/fuzz-$$t -max_total_time=$(FUZZ_SECONDS) \
			-artifact_prefix=build/fuzz/$$t- -print_final_stats=1 \
			-max_len=8192 build/fuzz/corpus-$$t 2>&1 | \
			grep -E '^(stat::|#[0-9]+.*DONE|==[0-9]+==ERROR|SUMMARY)' || true; \
		ls build/fuzz/$$t-crash-* 2>/dev/null && exit 1; \
	done; true

# Every test: unit tests, the binary end to end (CGI, FastCGI), and
# behind real nginx and Apache.  Ends with "N passed, N failed".
check: deps lint all tests/unit $(REPLAYS)
	@sh tests/run.sh

unit: tests/unit
	./tests/unit

# The unit and end-to-end suites again, with the sanitizer build.
check-san: deps $(SAN_OBJ)/esignhook $(SAN_OBJ)/esignhookctl $(SAN_OBJ)/unit \
		$(SAN_REPLAYS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	ESIGNHOOK_BIN=$(SAN_OBJ)/esignhook ESIGNHOOKCTL_BIN=$(SAN_OBJ)/esignhookctl \
	UNIT=$(SAN_OBJ)/unit \
	REPLAY_DIR=$(SAN_OBJ) E2E_SANITIZED=1 \
	SUITES="unit fuzz-corpora e2e-cgi e2e-fcgi e2e-hostile e2e-oauth e2e-concurrency e2e-journal e2e-lifecycle \
	e2e-drain e2e-exec e2e-forward e2e-download e2e-view e2e-nats e2e-nats-cluster" \
	sh tests/run.sh

check-valgrind: deps tests/unit
	@UNIT_WRAPPER="valgrind -q --leak-check=full \
	--errors-for-leak-kinds=all --error-exitcode=9" \
	SUITES=unit sh tests/run.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8
	install -m 0755 cgi/esignhook $(DESTDIR)$(BINDIR)/esignhook
	install -m 0755 cgi/esignhookctl $(DESTDIR)$(BINDIR)/esignhookctl
	install -m 0644 esignhook.8 $(DESTDIR)$(MANDIR)/man8/esignhook.8
	install -m 0644 esignhookctl.8 $(DESTDIR)$(MANDIR)/man8/esignhookctl.8

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/esignhook $(DESTDIR)$(BINDIR)/esignhookctl \
		$(DESTDIR)$(MANDIR)/man8/esignhook.8 \
		$(DESTDIR)$(MANDIR)/man8/esignhookctl.8

clean:
	rm -rf build cgi/esignhook cgi/esignhookctl tests/unit

# Debian packages for the build and the tests (and, for make bench,
# the load generator and the Flask baseline); nothing to do when present.
DEPS = build-essential pkg-config libfcgi-dev libfcgi-bin libjansson-dev \
	libsodium-dev libseccomp-dev spawn-fcgi nginx-light apache2 \
	libapache2-mod-fcgid curl clang valgrind python3 python3-requests-oauthlib \
	procps openssl libcurl4-openssl-dev prometheus strace util-linux \
	nats-server libnats-dev
BENCH_DEPS = wrk python3-flask gunicorn
define install_missing
	@missing=; for p in $(1); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | \
		grep -q 'ok installed' || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "make deps: installing$$missing"; \
		if [ "$$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi; \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		$$sudo apt-get install -y -qq --no-install-recommends \
		$$missing >/dev/null; \
	fi
endef
deps:
	$(call install_missing,$(DEPS))
bench-deps: deps
	$(call install_missing,$(BENCH_DEPS))

# Serve on http://127.0.0.1:$(PORT) (default 8080) behind a local nginx,
# with a generated configuration under ./run/; Ctrl-C stops it.
run: deps all
	@sh scripts/run.sh

# Throughput and latency through real nginx against baselines measured
# in the same run (bench/run.sh); writes bench/out/latest.md.
bench: bench-deps all
	@sh bench/run.sh
	@sh bench/drain.sh
	@sh bench/nats.sh

# Where a delivery's time goes, in counts that do not depend on the
# machine's load (bench/profile.sh): system calls and user-space
# instructions per delivery and per step, against the ceiling's, and
# what the sandbox adds per system call.
profile: deps all
	@sh bench/profile.sh

# The style rules a program can decide, over the whole tree: banned
# string functions (curl's checksrc idea), tabs, no trailing blanks, a
# definition's return type on its own line, each cause's status in
# lib/esignhook.h as lib/err.c has it (scripts/lint.sh).
lint:
	@sh scripts/lint.sh
