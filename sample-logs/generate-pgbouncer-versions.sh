#!/usr/bin/env bash
# Writes sample-logs/pgbouncer/versions/: the real pgbouncer 1.18 log of
# sample-logs/pgbouncer/ (generate-pgbouncer.sh) rewritten into the line
# shapes other pgbouncer versions write, as their sources print them (only
# 1.18 installs here). Every copy holds the same events as the original.
#   1.24.log        1.24's login attempts name replication (src/client.c),
#                   and 1.21+'s stats lines count prepared statements
#                   (`N client parses/s, N server parses/s, N binds/s`,
#                   src/stats.c; 0 here, as 1.18 does not count them).
#   bare-pid.log    libusual before the pid was bracketed: `TIME PID LEVEL`.
#   whole-seconds.log  times without milliseconds or zone.
#   bare-pid-whole-seconds.log  both.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
in=$HERE/pgbouncer/pgbouncer.log
out=$HERE/pgbouncer/versions
rm -rf "$out"
mkdir -p "$out"

sed -E -e 's/( login attempt: db=[^ ]+ user=[^ ]+ tls=[^ ]+)$/\1 replication=no/' \
    -e 's#( stats: [0-9]+ xacts/s, [0-9]+ queries/s,)#\1 0 client parses/s, 0 server parses/s, 0 binds/s,#' \
    "$in" > "$out/1.24.log"
sed -E 's/^([0-9-]+ [0-9:.]+ [A-Z]+) \[([0-9]+)\] /\1 \2 /' "$in" > "$out/bare-pid.log"
sed -E 's/^([0-9-]+ [0-9:]+)\.[0-9]+ UTC /\1 /' "$in" > "$out/whole-seconds.log"
sed -E 's/^([0-9-]+ [0-9:]+) \[([0-9]+)\] /\1 \2 /' "$out/whole-seconds.log" > "$out/bare-pid-whole-seconds.log"
ls -l "$out"
