#!/bin/sh
# The hostile corpus through the real binary as CGI (tests/hostile-cgi.py);
# the same corpus runs through the handler in the unit tests.
cd "$(dirname "$0")/.." || exit 2
exec python3 tests/hostile-cgi.py
