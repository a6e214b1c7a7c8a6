#!/bin/sh
# Runs one pgTAP file against the test database and prints its TAP stream
# (automake's tap-driver reads it).  A psql error ends the file early, which
# the driver reports as a plan mismatch.
set -eu
exec psql -X -q -v ON_ERROR_STOP=1 -At -f "$1" 2>&1
