# shellcheck shell=bash
# Sourced by the generators that need one throwaway PostgreSQL 15 server
# writing stderr, csvlog and jsonlog: run as root, the server runs as the
# unprivileged user pgtest on a free port with its socket in $WORK, and is
# stopped and removed on exit.
#
#   . "$HERE/throwaway-server.sh"
#   start_server NAME 'extra = settings'   # $WORK, $D (data), $PORT set
#   stop_server                            # logs in $D/log/postgresql.{log,csv,json}

BIN=/usr/lib/postgresql/15/bin
OS_USER=pgtest

[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
[ -x "$BIN/initdb" ] || { apt-get update -qq; apt-get install -y -qq postgresql-15; }
id "$OS_USER" >/dev/null 2>&1 || useradd -m "$OS_USER"

pg() { runuser -u "$OS_USER" -- "$@"; }

cleanup_server() {
    if [ -f "$D/postmaster.pid" ]; then
        pg "$BIN/pg_ctl" -D "$D" stop -m immediate >/dev/null 2>&1 || true
    fi
    rm -rf "$WORK"
}

start_server() {  # NAME EXTRA_CONF
    WORK=$(mktemp -d "/tmp/pglog-$1.XXXXXX")
    chmod 755 "$WORK"
    chown "$OS_USER" "$WORK"
    D=$WORK/data
    trap cleanup_server EXIT
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    pg "$BIN/initdb" -D "$D" -A trust -U postgres >/dev/null
    cat >> "$D/postgresql.conf" <<CONF
port = $PORT
listen_addresses = ''
unix_socket_directories = '$WORK'
logging_collector = on
log_destination = 'stderr,csvlog,jsonlog'
log_directory = 'log'
log_filename = 'postgresql.log'
log_rotation_age = 0
log_rotation_size = 0
log_line_prefix = '%m [%p] %q%u@%d/%a '
log_timezone = 'UTC'
lc_messages = 'C'
$2
CONF
    pg "$BIN/pg_ctl" -D "$D" -l "$WORK/startup.out" -w start >/dev/null
}

stop_server() { pg "$BIN/pg_ctl" -D "$D" -m fast -w stop >/dev/null; }
