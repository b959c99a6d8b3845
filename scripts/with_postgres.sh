#!/usr/bin/env bash
# Run a command with a throwaway PostgreSQL cluster: `scripts/with_postgres.sh pytest …`.
#
# Installs Debian's PostgreSQL server when no initdb is found (apt-get), creates a cluster in a
# fresh temporary folder (initdb), starts it with pg_ctl on a free TCP port of 127.0.0.1 with its
# unix socket in the same folder, exports its URL as DEALSCOPE_TEST_PG_URL, runs the command and
# stops the cluster and deletes the folder afterwards, also when the command fails or is
# interrupted (trap on EXIT). No system service is started and nothing is left behind. PostgreSQL
# refuses to run as root, so as root the cluster belongs to the `postgres` user (runuser).
# The command's exit code is returned.
set -euo pipefail

find_bindir() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && { echo "$dir"; return 0; }
  done
  command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1 \
    && { dirname "$(command -v pg_ctl)"; return 0; }
  return 1
}

BINDIR=$(find_bindir || true)
if [ -z "$BINDIR" ]; then
  echo "with_postgres: installing Debian's postgresql package (server binaries only)…" >&2
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  $SUDO apt-get update -qq
  # policy-rc.d 101: the package must not start (or enable) its system service.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    REMOVE_POLICY=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
  [ "${REMOVE_POLICY:-0}" = 1 ] && $SUDO rm -f /usr/sbin/policy-rc.d
  BINDIR=$(find_bindir)
fi

RUN_AS=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin postgres
  RUN_AS=(runuser -u postgres --)
fi

PG_TMP=$(mktemp -d "${TMPDIR:-/tmp}/dealscope-pg.XXXXXX")
chmod 755 "$PG_TMP"
[ "$(id -u)" = 0 ] && chown postgres "$PG_TMP"
PGDATA="$PG_TMP/data"

cleanup() {
  local code=$?
  if [ -f "$PGDATA/postmaster.pid" ]; then
    "${RUN_AS[@]}" "$BINDIR/pg_ctl" -D "$PGDATA" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$PG_TMP"
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A free port: bind port 0, read the number the kernel chose, release it.
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

"${RUN_AS[@]}" "$BINDIR/initdb" -D "$PGDATA" -U dealscope --auth=trust --encoding=UTF8 \
  --locale=C.UTF-8 >"$PG_TMP/initdb.log" 2>&1 \
  || { cat "$PG_TMP/initdb.log" >&2; exit 1; }
# fsync off: a throwaway cluster never needs to survive a power loss, and tests write a lot.
"${RUN_AS[@]}" "$BINDIR/pg_ctl" -D "$PGDATA" -l "$PG_TMP/server.log" -w -t 60 \
  -o "-p $PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$PG_TMP -c fsync=off -c max_connections=100" \
  start >/dev/null || { cat "$PG_TMP/server.log" >&2; exit 1; }

export DEALSCOPE_TEST_PG_URL="postgresql+psycopg://dealscope@127.0.0.1:$PORT/postgres"
echo "with_postgres: PostgreSQL $("$BINDIR/postgres" --version | awk '{print $3}') at $DEALSCOPE_TEST_PG_URL" >&2

set +e
"$@"
status=$?
set -e
exit "$status"
