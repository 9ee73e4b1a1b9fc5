#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on loopback for the ledger tests.
#   .ci/postgres.sh start DIR   installs PostgreSQL if absent (Debian packages, as root), starts a
#                               cluster in DIR as an unprivileged user, prints its URL on stdout
#   .ci/postgres.sh stop DIR    stops it
# Everything else goes to stderr.
set -euo pipefail
command=${1:?usage: postgres.sh start|stop DIR}
dir=${2:?usage: postgres.sh start|stop DIR}

find_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    if [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
  done
  return 1
}

# PostgreSQL refuses to run as root: as root, run it as an unprivileged system user.
as_user() {
  if [ "$(id -u)" = 0 ]; then runuser -u smsgate-ci -- "$@"; else "$@"; fi
}

case "$command" in
start)
  if ! bin=$(find_bin); then
    if [ "$(id -u)" != 0 ]; then
      echo "postgres.sh: PostgreSQL is not installed and this user cannot install it" >&2
      exit 2
    fi
    echo "postgres.sh: installing PostgreSQL (Debian packages)" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >&2
    bin=$(find_bin)
  fi
  if [ "$(id -u)" = 0 ] && ! id -u smsgate-ci >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin smsgate-ci
  fi
  rm -rf "$dir"
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then chown smsgate-ci "$dir"; fi
  as_user "$bin/initdb" -D "$dir/data" -U smsgate -A trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  for attempt in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 20000))
    if as_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k '$dir' -c fsync=off" start >&2; then
      if as_user "$bin/createdb" -h 127.0.0.1 -p "$port" -U smsgate smsgate_test >&2; then
        echo "postgres://smsgate@127.0.0.1:$port/smsgate_test"
        exit 0
      fi
      as_user "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >&2 || true
      echo "postgres.sh: createdb failed" >&2
      exit 1
    fi
    # A server still starting (timeout) is stopped before the next port is tried.
    as_user "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    echo "postgres.sh: port $port refused (attempt $attempt)" >&2
  done
  cat "$dir/server.log" >&2 || true
  exit 1
  ;;
stop)
  if bin=$(find_bin) && [ -d "$dir/data" ]; then
    as_user "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
  fi
  ;;
*)
  echo "usage: postgres.sh start|stop DIR" >&2
  exit 2
  ;;
esac
