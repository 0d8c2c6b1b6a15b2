#!/bin/sh
# A FastCGI worker's start and stop (tests/fcgi_lifecycle.py): SIGTERM
# with a request in flight, the descriptor budget, closed fds 0-2; slow
# clients and ESIGNHOOK_READ_TIMEOUT; the sandbox probed from inside
# (tests/sandbox-probe.c), non-dumpable, syslog under the sandbox.
cd "$(dirname "$0")/.." || exit 2
exec python3 tests/fcgi_lifecycle.py
