# Starting the servers GitTix needs, on 127.0.0.1 in a private directory, for `scripts/test` and
# `scripts/cluster`. Source it, call `servers_init`, then the `start_*` functions you need; each
# sets variables naming what it started and registers its own stop with `on_exit`. Everything
# started is stopped when the sourcing script exits, however it exits.

say() { printf '\n==> %s\n' "$*" >&2; }

# Creates the private directory `$work` and the exit trap that stops what was started.
servers_init() {
  work=$(mktemp -d "${TMPDIR:-/tmp}/gittix-$1.XXXXXX")
  chmod 755 "$work"
  # pids/<name>.pid and pids/<name>.command (the line that starts it again) of each server, for
  # the fault suite, which kills and restarts them; logs/<name>.log what each server logs.
  mkdir "$work/pids" "$work/logs"
  cleanups=()
  trap servers_cleanup EXIT
  trap 'exit 130' INT TERM
}

on_exit() { cleanups+=("$1"); }

# Stops the process of pids/`name`.pid: SIGTERM, then SIGKILL after 10 s. The process may have
# been restarted by a test, and so not be this shell's child: `wait` cannot be used.
stop_process() {
  local pid
  pid=$(cat "$work/pids/$1.pid" 2>/dev/null) || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

# start_server NAME LOG COMMAND...: runs COMMAND in the background, logging to LOG, and records
# its pid and its command line under pids/ for stop_process and the fault suite.
start_server() {
  local name=$1 log=$2
  shift 2
  "$@" >>"$log" 2>&1 &
  echo $! >"$work/pids/$name.pid"
  printf '%q ' "$@" >"$work/pids/$name.command"
  on_exit "stop_process $name"
}

servers_cleanup() {
  local i
  # A second Ctrl-C must not cut the cleanup short and leave servers running.
  trap '' INT TERM
  for ((i = ${#cleanups[@]} - 1; i >= 0; i--)); do eval "${cleanups[i]}" || true; done
  rm -rf "$work"
}

apt_install() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "missing: $* (install it, or run this as root on Debian/Ubuntu to let it install)" >&2
    exit 1
  fi
  say "installing $*"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# A TCP port on 127.0.0.1 that nothing listens on, below the kernel's range of ephemeral ports
# (32768 and up by default): a port in that range can be taken at any moment as the source
# port of some outgoing connection, and a server binding it later fails.
free_port() {
  local port
  while :; do
    port=$((12000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
}

# Waits up to 10 s for something to listen on `port`; prints `log` and fails otherwise.
wait_for_port() {
  local port=$1 log=$2
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.1
  done
  cat "$log" >&2
  return 1
}

# The gittix binary: $GITTIX_BIN when set (scripts/test passes the one its test build made,
# so nothing is compiled twice), else a debug build of it.
gittix_binary() {
  if [ -n "${GITTIX_BIN:-}" ]; then
    echo "$GITTIX_BIN"
    return
  fi
  say "building gittix"
  (cd "$repo" && cargo build --locked --quiet -p gittix) >&2
  echo "${CARGO_TARGET_DIR:-$repo/target}/debug/gittix"
}

# --- PostgreSQL ------------------------------------------------------------------------------
pg_bin_dir() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$dir/initdb" ] && { echo "$dir"; return; }
  done
  if command -v pg_config >/dev/null && [ -x "$(pg_config --bindir)/initdb" ]; then pg_config --bindir; fi
}

as_pg() { if [ -n "$pg_user" ]; then runuser -u "$pg_user" -- "$@"; else "$@"; fi; }

# Sets pg_bin, pg_user, pg_port and pg_url (no database: append /name).
start_postgres() {
  pg_bin=$(pg_bin_dir)
  if [ -z "$pg_bin" ]; then
    apt_install postgresql
    pg_bin=$(pg_bin_dir)
  fi
  # PostgreSQL refuses to run as root, so as root it runs as the unprivileged user `postgres`.
  pg_user=""
  if [ "$(id -u)" = 0 ]; then
    pg_user=postgres
    id -u "$pg_user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$pg_user"
  fi
  local dir="$work/postgres"
  mkdir "$dir"
  [ -z "$pg_user" ] || chown "$pg_user" "$dir"
  pg_port=$(free_port)
  say "starting PostgreSQL ($pg_bin) on 127.0.0.1:$pg_port"
  (cd "$work" && as_pg "$pg_bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-sync >"$dir/initdb.log")
  # Durability settings are off: these databases are thrown away, and tests that kill processes
  # kill GitTix, not the machine. GITTIX_PG_DURABLE=1 keeps PostgreSQL's defaults (the
  # benchmarks measure what a deployment would do).
  local durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  [ "${GITTIX_PG_DURABLE:-0}" != 1 ] || durability=""
  local options="-p $pg_port -c listen_addresses=127.0.0.1 -k $dir/data $durability -c max_connections=500"
  (cd "$work" && as_pg "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o "$options" start >/dev/null)
  on_exit "cd '$work' && as_pg '$pg_bin/pg_ctl' -D '$dir/data' -m immediate stop >/dev/null"
  # For the fault suite: the lines that stop the server (as a crash would) and start it again.
  local as_user=""
  [ -z "$pg_user" ] || as_user="runuser -u $pg_user --"
  printf 'cd %q && %s %q -D %q -m immediate stop\n' "$work" "$as_user" "$pg_bin/pg_ctl" "$dir/data" \
    >"$work/pids/postgres.stop"
  printf 'cd %q && %s %q -D %q -l %q -w -o %q start\n' "$work" "$as_user" "$pg_bin/pg_ctl" \
    "$dir/data" "$dir/server.log" "$options" >"$work/pids/postgres.start"
  pg_url="postgres://postgres@127.0.0.1:$pg_port"
}

# Creates database `$1` on the server start_postgres started.
create_database() {
  (cd "$work" && as_pg "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres "$1")
}

# --- NATS with JetStream ---------------------------------------------------------------------
# Sets nats_bin, nats_port and nats_url.
start_nats() {
  nats_bin=$(command -v nats-server || true)
  [ -n "$nats_bin" ] || { [ -x /usr/sbin/nats-server ] && nats_bin=/usr/sbin/nats-server; } || true
  if [ -z "$nats_bin" ]; then
    apt_install nats-server
    nats_bin=$(command -v nats-server || echo /usr/sbin/nats-server)
  fi
  nats_port=$(free_port)
  say "starting NATS with JetStream ($nats_bin) on 127.0.0.1:$nats_port"
  start_server nats "$work/logs/nats.log" "$nats_bin" -a 127.0.0.1 -p "$nats_port" -js -sd "$work/nats"
  wait_for_port "$nats_port" "$work/logs/nats.log"
  nats_url="nats://127.0.0.1:$nats_port"
}

# --- Redis -----------------------------------------------------------------------------------
# Sets redis_bin, redis_port and redis_url. Persistence on: append-only file.
start_redis() {
  redis_bin=$(command -v redis-server || true)
  if [ -z "$redis_bin" ]; then
    apt_install redis-server
    redis_bin=$(command -v redis-server)
  fi
  redis_port=$(free_port)
  say "starting Redis ($redis_bin) on 127.0.0.1:$redis_port"
  mkdir "$work/redis"
  start_server redis /dev/null "$redis_bin" --bind 127.0.0.1 --port "$redis_port" --dir "$work/redis" \
    --save "" --appendonly yes --daemonize no --logfile "$work/logs/redis.log"
  wait_for_port "$redis_port" "$work/logs/redis.log"
  redis_url="redis://127.0.0.1:$redis_port"
}

# --- the Stripe stand-in ---------------------------------------------------------------------
# stripe-stateful-mock (npm) answers Stripe's charges and refunds API, declines and idempotency
# keys. Sets stripe_url.
start_stripe() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    apt_install nodejs npm
  fi
  mkdir "$work/stripe"
  say "installing the Stripe stand-in (npm stripe-stateful-mock) in $work/stripe"
  (cd "$work/stripe" && npm install --no-audit --no-fund --loglevel=error stripe-stateful-mock@0.0.16 >/dev/null)
  local port
  port=$(free_port)
  PORT=$port node "$work/stripe/node_modules/stripe-stateful-mock/dist/cli.js" >"$work/stripe.log" 2>&1 &
  on_exit "kill $!; wait $!"
  wait_for_port "$port" "$work/stripe.log"
  stripe_url="http://127.0.0.1:$port"
}

# --- Chromium --------------------------------------------------------------------------------
# The web pages are tested in headless Chromium, driven over WebDriver by chromedriver.
# Sets chromedriver_bin.
need_chromium() {
  if ! command -v chromedriver >/dev/null || ! [ -x /usr/bin/chromium ]; then
    apt_install chromium chromium-driver
  fi
  chromedriver_bin=$(command -v chromedriver)
}

# axe-core (npm) checks each page the browser tests visit for accessibility problems.
# Sets axe_js.
need_axe() {
  if ! command -v npm >/dev/null; then
    apt_install nodejs npm
  fi
  mkdir "$work/axe"
  say "installing axe-core (npm) in $work/axe"
  (cd "$work/axe" && npm install --no-audit --no-fund --loglevel=error axe-core@4.10.3 >/dev/null)
  axe_js="$work/axe/node_modules/axe-core/axe.min.js"
}

# --- nginx -----------------------------------------------------------------------------------
# Sets nginx_bin.
need_nginx() {
  nginx_bin=$(command -v nginx || true)
  [ -n "$nginx_bin" ] || { [ -x /usr/sbin/nginx ] && nginx_bin=/usr/sbin/nginx; } || true
  if [ -z "$nginx_bin" ]; then
    apt_install nginx-light
    nginx_bin=/usr/sbin/nginx
  fi
}
