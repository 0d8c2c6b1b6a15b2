# esignhook: GNU make.  `make deps` installs what the build and the tests
# need (Debian); `make` builds; `make check` runs every test.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DESTDIR ?=

CC ?= cc
CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
	-Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla \
	-fstack-protector-strong -D_FORTIFY_SOURCE=2
LDFLAGS ?=

# SAN=1: AddressSanitizer and UndefinedBehaviorSanitizer.
ifeq ($(SAN),1)
CFLAGS += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all -U_FORTIFY_SOURCE
LDFLAGS += -fsanitize=address,undefined
endif

PKGS = fcgi jansson libsodium
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIB_LIBS := $(shell pkg-config --libs jansson libsodium 2>/dev/null)
FCGI_LIBS := $(shell pkg-config --libs fcgi 2>/dev/null || echo -lfcgi)
CFLAGS += $(PKG_CFLAGS)

LIB_SRCS = lib/err.c lib/form.c lib/onespan.c lib/alphatrust.c \
	lib/record.c lib/config.c lib/spool.c lib/body.c lib/handler.c \
	lib/serve.c lib/log.c
LIB_OBJS = $(LIB_SRCS:.c=.o)
LIB = lib/libesignhook.a

TEST_SRCS = tests/unit.c tests/test-form.c tests/test-onespan.c \
	tests/test-alphatrust.c tests/test-record.c tests/test-config.c \
	tests/test-spool.c tests/test-body.c tests/test-handler.c \
	tests/test-serve.c tests/test-log.c tests/test-err.c
TEST_OBJS = $(TEST_SRCS:.c=.o)

BINS = cgi/esignhook

.PHONY: all check unit e2e install uninstall clean bench lint deps run \
	format

all: $(BINS)

$(LIB_OBJS) $(TEST_OBJS) cgi/esignhook.o: lib/esignhook.h lib/extern.h

$(LIB): $(LIB_OBJS)
	$(AR) rcs $@ $(LIB_OBJS)

cgi/esignhook: cgi/esignhook.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ cgi/esignhook.o $(LIB) $(FCGI_LIBS) \
		$(LIB_LIBS) -lpthread

tests/unit: $(TEST_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(TEST_OBJS) $(LIB) $(LIB_LIBS)

$(TEST_OBJS): tests/t.h

# Every test: unit tests, then the binary end to end (CGI, FastCGI).
check: all tests/unit
	@sh tests/run.sh

unit: tests/unit
	./tests/unit

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8
	install -m 0755 cgi/esignhook $(DESTDIR)$(BINDIR)/esignhook
	install -m 0644 esignhook.8 $(DESTDIR)$(MANDIR)/man8/esignhook.8

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/esignhook $(DESTDIR)$(MANDIR)/man8/esignhook.8

clean:
	rm -f $(LIB_OBJS) $(LIB) $(TEST_OBJS) tests/unit cgi/*.o $(BINS)

# Debian packages the build and the tests use; nothing to do when present.
DEPS = build-essential pkg-config libfcgi-dev libfcgi-bin libjansson-dev \
	libsodium-dev spawn-fcgi nginx-light curl clang valgrind
deps:
	@missing=; for p in $(DEPS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | \
		grep -q 'ok installed' || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# Banned: unbounded or ambiguous string functions (curl's checksrc idea).
lint:
	@! grep -nE '\b(sprintf|vsprintf|strcpy|strcat|strtok|atoi|atol|gets)\s*\(' \
		lib/*.c cgi/*.c tests/*.c || (echo "lint: banned function" && false)
	@echo "lint: ok"
