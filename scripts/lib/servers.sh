# Starting the servers GitTix needs, on 127.0.0.1 in a private directory, for `scripts/test` and
# `scripts/cluster`. Source it, call `servers_init`, then the `start_*` functions you need; each
# sets variables naming what it started and registers its own stop with `on_exit`. Everything
# started is stopped when the sourcing script exits, however it exits.
#
# The servers themselves are started by `gittix-dev` (crates/testing/src/bin/gittix-dev.rs), with
# the code the tests' private servers use (crates/testing/src/servers/launch.rs): how each is
# found, its arguments, its port. What stays here: installing packages, recording pids and
# command lines, and stopping everything on exit.

say() { printf '\n==> %s  [%s]\n' "$*" "$(date +%T)" >&2; }

# gittix-dev: $GITTIX_DEV_BIN when set, else a debug build of it, made before any server
# starts. Exported, so the scripts this one runs use the same build. Sets gittix_dev.
# --workspace, so its dependencies are compiled with the features the workspace's own builds
# use, and not a second time for it alone.
dev_binary() {
  if [ -z "${GITTIX_DEV_BIN:-}" ]; then
    say "building gittix-dev"
    (cd "$repo" && cargo build --locked --quiet --workspace --bin gittix-dev) >&2
    GITTIX_DEV_BIN="${CARGO_TARGET_DIR:-$repo/target}/debug/gittix-dev"
  fi
  export GITTIX_DEV_BIN
  gittix_dev=$GITTIX_DEV_BIN
}

# Builds gittix-dev, creates the private directory `$work` and the exit trap that stops what
# was started.
servers_init() {
  dev_binary
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

# A TCP port on 127.0.0.1 that nothing listens on, below the kernel's range of ephemeral ports.
free_port() { "$gittix_dev" free-port; }

# Waits up to 10 s for something to listen on `port`; prints `log` and fails otherwise.
wait_for_port() { "$gittix_dev" wait-port "$1" --log "$2"; }

# The gittix binary: $GITTIX_BIN when set (scripts/test passes the one its test build made,
# so nothing is compiled twice), else a debug build of it.
gittix_binary() {
  if [ -n "${GITTIX_BIN:-}" ]; then
    echo "$GITTIX_BIN"
    return
  fi
  say "building gittix"
  (cd "$repo" && cargo build --locked --quiet --workspace --bin gittix) >&2
  echo "${CARGO_TARGET_DIR:-$repo/target}/debug/gittix"
}

# --- PostgreSQL ------------------------------------------------------------------------------
# Sets pg_bin, pg_user (whom it runs as: `postgres` when this runs as root, as PostgreSQL refuses
# root), pg_port and pg_url (no database: append /name). It logs to logs/postgres.log. For the
# fault suite, pids/postgres.stop stops it as a crash would and pids/postgres.start starts it again.
start_postgres() {
  pg_bin=$("$gittix_dev" find postgres 2>/dev/null) || {
    apt_install postgresql
    pg_bin=$("$gittix_dev" find postgres)
  }
  pg_user=$("$gittix_dev" postgres user)
  pg_port=$(free_port)
  say "starting PostgreSQL ($pg_bin) on 127.0.0.1:$pg_port"
  local cluster=(--bin "$pg_bin" --dir "$work/postgres")
  "$gittix_dev" postgres init "${cluster[@]}"
  # Durability settings are off unless GITTIX_PG_DURABLE=1 (the benchmarks measure what a
  # deployment would do; the fault suite crashes PostgreSQL).
  local durable=()
  [ "${GITTIX_PG_DURABLE:-0}" != 1 ] || durable=(--durable)
  local start=("$gittix_dev" postgres start "${cluster[@]}" --port "$pg_port" \
    --log "$work/logs/postgres.log" "${durable[@]}")
  local stop=("$gittix_dev" postgres stop "${cluster[@]}" --mode immediate)
  "${start[@]}"
  on_exit "$(printf '%q ' "${stop[@]}")"
  printf '%q ' "${stop[@]}" >"$work/pids/postgres.stop"
  printf '%q ' "${start[@]}" >"$work/pids/postgres.start"
  pg_url="postgres://postgres@127.0.0.1:$pg_port"
}

# Creates database `$1` on the server start_postgres started.
create_database() {
  "$gittix_dev" postgres createdb --bin "$pg_bin" --port "$pg_port" "$1"
}

# --- NATS with JetStream ---------------------------------------------------------------------
# Sets nats_bin, nats_port and nats_url. JetStream's files in $work/nats.
start_nats() {
  nats_bin=$("$gittix_dev" find nats 2>/dev/null) || {
    apt_install nats-server
    nats_bin=$("$gittix_dev" find nats)
  }
  nats_port=$(free_port)
  say "starting NATS with JetStream ($nats_bin) on 127.0.0.1:$nats_port"
  start_server nats "$work/logs/nats.log" \
    "$gittix_dev" nats --bin "$nats_bin" --dir "$work/nats" --port "$nats_port"
  wait_for_port "$nats_port" "$work/logs/nats.log"
  nats_url="nats://127.0.0.1:$nats_port"
}

# --- Redis -----------------------------------------------------------------------------------
# Sets redis_bin, redis_port and redis_url. Persistence on: an append-only file in $work/redis.
start_redis() {
  redis_bin=$("$gittix_dev" find redis 2>/dev/null) || {
    apt_install redis-server
    redis_bin=$("$gittix_dev" find redis)
  }
  redis_port=$(free_port)
  say "starting Redis ($redis_bin) on 127.0.0.1:$redis_port"
  start_server redis "$work/logs/redis.log" \
    "$gittix_dev" redis --bin "$redis_bin" --dir "$work/redis" --port "$redis_port"
  wait_for_port "$redis_port" "$work/logs/redis.log"
  redis_url="redis://127.0.0.1:$redis_port"
}

# --- the Stripe stand-in ---------------------------------------------------------------------
# localstripe (PyPI) answers Stripe's PaymentIntents API, 3-D Secure included, run by
# localstripe_server.py (next to this file) on 127.0.0.1 with the Stripe test cards, tokens and
# idempotency keys localstripe lacks. Its state is kept in the private directory, so a restart
# keeps it. Sets stripe_url.
start_stripe() {
  if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    apt_install python3-venv
  fi
  say "installing the Stripe stand-in (PyPI localstripe) in $work/localstripe"
  python3 -m venv "$work/localstripe"
  "$work/localstripe/bin/pip" install --quiet --disable-pip-version-check localstripe==1.15.10
  local port
  port=$(free_port)
  start_server stripe "$work/logs/stripe.log" "$work/localstripe/bin/python" \
    "$repo/scripts/lib/localstripe_server.py" --port "$port" --state "$work/localstripe/state.pickle"
  wait_for_port "$port" "$work/logs/stripe.log"
  stripe_url="http://127.0.0.1:$port"
}

# stripe-stateful-mock (npm) answers Stripe's Connect accounts (create, retrieve), which
# localstripe lacks: the accounts half of the provider suite runs against it. Sets
# stripe_connect_url.
start_stripe_connect() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    apt_install nodejs npm
  fi
  mkdir "$work/stripe-connect"
  say "installing the Connect stand-in (npm stripe-stateful-mock) in $work/stripe-connect"
  (cd "$work/stripe-connect" && npm install --no-audit --no-fund --loglevel=error stripe-stateful-mock@0.0.16 >/dev/null)
  local port
  port=$(free_port)
  start_server stripe-connect "$work/logs/stripe-connect.log" env PORT="$port" \
    node "$work/stripe-connect/node_modules/stripe-stateful-mock/dist/cli.js"
  wait_for_port "$port" "$work/logs/stripe-connect.log"
  stripe_connect_url="http://127.0.0.1:$port"
}

# --- SMTP ------------------------------------------------------------------------------------
# A real SMTP server for the notifications service: aiosmtpd (PyPI), run by smtp_server.py (next
# to this file) on 127.0.0.1. It stores every message it accepts in a Maildir and refuses
# recipients at bounce.invalid (550) and later.invalid (451). The Maildir is in the private
# directory and named on the command line, so a restart (the fault suite's) keeps the messages
# already delivered. Sets smtp_url and smtp_maildir.
start_smtp() {
  if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    apt_install python3-venv
  fi
  say "installing the SMTP server (PyPI aiosmtpd) in $work/smtp"
  python3 -m venv "$work/smtp"
  "$work/smtp/bin/pip" install --quiet --disable-pip-version-check aiosmtpd==1.4.6
  local port
  port=$(free_port)
  smtp_maildir="$work/maildir"
  start_server smtp "$work/logs/smtp.log" "$work/smtp/bin/python" \
    "$repo/scripts/lib/smtp_server.py" --port "$port" --maildir "$smtp_maildir"
  wait_for_port "$port" "$work/logs/smtp.log"
  smtp_url="smtp://127.0.0.1:$port"
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
