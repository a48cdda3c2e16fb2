#!/usr/bin/env bash
# Prism mock server for the integration tests.
#
# Serves tests/data/clerk-management.openapi.yml with Stoplight Prism on loopback, with
# request validation (--errors) and schema-generated response bodies (--dynamic).
#
# Usage:
#   scripts/prism.sh start            start Prism in the background; prints PRISM_URL=<url>
#   scripts/prism.sh stop             stop the Prism that `start` left running
#   scripts/prism.sh run -- CMD...    start Prism, run CMD with PRISM_URL exported, stop
#                                     Prism whatever happens, exit with CMD's status
#   scripts/prism.sh help
#
# The URL has no /v1 suffix: Prism serves the spec's paths at the root, so a client is
# pointed at e.g. http://127.0.0.1:4010 and calls /management/users.
#
# Environment:
#   PRISM_DIR      where Prism is installed and where its pid and log files go
#                  (default: target/prism in the repository)
#   PRISM_PORT     port to listen on; without it 4010 is used if free, else any free port
#   PRISM_TIMEOUT  seconds to wait for Prism to answer (default 90)
#   PRISM_SEED     if set, passed as --seed so generated bodies are the same on every call
#
# Only stdout carries the URL line (for `start`) or CMD's own output (for `run`); all
# progress messages go to stderr. Needs bash, curl (optional), Node.js >= 18.20.1 and npm
# with access to the npm registry the first time.
set -euo pipefail

readonly PRISM_PKG="@stoplight/prism-cli"
# 5.14.2 is the last release that installs on Node.js 18/20; later ones require Node 24.
readonly PRISM_VERSION="5.14.2"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly ROOT
readonly SPEC="$ROOT/tests/data/clerk-management.openapi.yml"

PRISM_DIR="${PRISM_DIR:-$ROOT/target/prism}"
TIMEOUT="${PRISM_TIMEOUT:-90}"

# Set by launch(): the server's process id, port and log file.
SERVER_PID=""
SERVER_PORT=""
SERVER_LOG=""
# Set by cmd_run() for its EXIT trap.
RUN_BASE=""
RUN_STATUS=1

say() { printf 'prism.sh: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p;}' "${BASH_SOURCE[0]}" >&2
  exit "${1:-2}"
}

# Milliseconds since the epoch (whole seconds * 1000 where EPOCHREALTIME is missing).
now_ms() {
  if [[ -n "${EPOCHREALTIME:-}" ]]; then
    local t="${EPOCHREALTIME/[.,]/}"
    printf '%s\n' "${t:0:${#t}-3}"
  else
    printf '%s000\n' "$(date +%s)"
  fi
}

elapsed() { # elapsed START_MS -> "1.234s"
  local ms=$(( $(now_ms) - $1 ))
  printf '%d.%03ds' $(( ms / 1000 )) $(( ms % 1000 ))
}

check_tools() {
  command -v node >/dev/null 2>&1 || die "node is not installed (Prism needs Node.js >= 18.20.1)"
  command -v npm >/dev/null 2>&1 || die "npm is not installed"
  node -e '
    const [major, minor] = process.versions.node.split(".").map(Number);
    process.exit(major > 18 || (major === 18 && minor >= 20) ? 0 : 1);
  ' || die "Node.js $(node --version) is too old for Prism $PRISM_VERSION (needs >= 18.20.1)"
  [[ -f "$SPEC" ]] || die "spec file missing: $SPEC"
  case "$TIMEOUT" in '' | *[!0-9]*) die "PRISM_TIMEOUT must be a whole number of seconds" ;; esac
}

prepare_dir() {
  mkdir -p "$PRISM_DIR"
  PRISM_DIR="$(cd "$PRISM_DIR" && pwd)"
  PRISM_BIN="$PRISM_DIR/node_modules/.bin/prism"
}

installed_version() {
  local manifest="$PRISM_DIR/node_modules/$PRISM_PKG/package.json"
  [[ -x "$PRISM_BIN" && -f "$manifest" ]] || return 0
  node -p 'require(process.argv[1]).version' "$manifest" 2>/dev/null || true
}

ensure_installed() {
  local have
  have="$(installed_version)"
  if [[ "$have" == "$PRISM_VERSION" ]]; then
    say "using $PRISM_PKG@$PRISM_VERSION from $PRISM_DIR"
    return 0
  fi

  say "installing $PRISM_PKG@$PRISM_VERSION into $PRISM_DIR${have:+ (found $have)}"
  local t0
  t0="$(now_ms)"
  npm install --prefix "$PRISM_DIR" --no-audit --no-fund --loglevel=error \
    "$PRISM_PKG@$PRISM_VERSION" >&2 || die "npm install of $PRISM_PKG@$PRISM_VERSION failed"
  say "npm install took $(elapsed "$t0")"

  [[ "$(installed_version)" == "$PRISM_VERSION" ]] ||
    die "npm install finished but $PRISM_BIN is not version $PRISM_VERSION"
}

# Exit status 0 when nothing on 127.0.0.1 holds PORT (we can bind it ourselves).
port_is_free() {
  node -e '
    const server = require("net").createServer();
    server.once("error", () => process.exit(1));
    server.listen(Number(process.argv[1]), "127.0.0.1", () => server.close(() => process.exit(0)));
  ' "$1"
}

# Prints a port the kernel reports as free right now.
any_free_port() {
  node -e '
    const server = require("net").createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => console.log(port));
    });
  '
}

choose_port() {
  if [[ -n "${PRISM_PORT:-}" ]]; then
    case "$PRISM_PORT" in '' | *[!0-9]*) die "PRISM_PORT must be a number, got '$PRISM_PORT'" ;; esac
    port_is_free "$PRISM_PORT" || die "port $PRISM_PORT on 127.0.0.1 is already in use"
    printf '%s\n' "$PRISM_PORT"
  elif port_is_free 4010; then
    printf '4010\n'
  else
    say "port 4010 is busy; asking the system for a free one"
    any_free_port
  fi
}

# Exit status 0 once something answers on the port. With curl an HTTP reply of any status
# counts (an unauthenticated POST is answered 401 by a ready Prism); without curl an
# accepted TCP connection does.
answers() {
  local port="$1" code
  if command -v curl >/dev/null 2>&1; then
    code="$(curl -s -o /dev/null -m 2 -w '%{http_code}' -X POST \
      -H 'Content-Type: application/json' -d '{}' \
      "http://127.0.0.1:$port/management/users" 2>/dev/null)" || true
    [[ -n "$code" && "$code" != "000" ]]
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
  fi
}

# Ends process PID: SIGTERM, then SIGKILL if it is still there after five seconds.
terminate() {
  local pid="$1" i
  kill "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  say "pid $pid ignored SIGTERM; sending SIGKILL"
  kill -9 "$pid" 2>/dev/null || true
}

# launch STATE_BASE: starts Prism, writes STATE_BASE.pid and logs to STATE_BASE.log, and
# returns once it answers. Sets SERVER_PID, SERVER_PORT and SERVER_LOG.
launch() {
  local base="$1" t0 deadline
  SERVER_LOG="$base.log"
  SERVER_PORT="$(choose_port)"

  local args=(mock -h 127.0.0.1 -p "$SERVER_PORT" --errors --dynamic)
  if [[ -n "${PRISM_SEED:-}" ]]; then
    args+=(--seed "$PRISM_SEED")
  fi
  args+=("$SPEC")

  say "starting prism ${args[*]} (log: $SERVER_LOG)"
  t0="$(now_ms)"
  # All three streams redirected, so that `$(scripts/prism.sh start)` does not wait for
  # the server to close them.
  "$PRISM_BIN" "${args[@]}" </dev/null >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
  printf '%s\n' "$SERVER_PID" >"$base.pid"

  deadline=$(( $(date +%s) + TIMEOUT ))
  until answers "$SERVER_PORT"; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      say "Prism exited before answering; end of its log:"
      tail -n 25 "$SERVER_LOG" >&2 || true
      rm -f "$base.pid"
      SERVER_PID=""
      exit 1
    fi
    if (( $(date +%s) >= deadline )); then
      say "Prism did not answer on port $SERVER_PORT within ${TIMEOUT}s; end of its log:"
      tail -n 25 "$SERVER_LOG" >&2 || true
      terminate "$SERVER_PID"
      rm -f "$base.pid"
      SERVER_PID=""
      exit 1
    fi
    sleep 0.2
  done
  say "Prism $PRISM_VERSION answers on http://127.0.0.1:$SERVER_PORT (pid $SERVER_PID, start-up took $(elapsed "$t0"))"
}

cmd_start() {
  [[ $# -eq 0 ]] || usage 2
  check_tools
  prepare_dir

  local base="$PRISM_DIR/prism"
  if [[ -f "$base.pid" ]]; then
    local old
    old="$(<"$base.pid")"
    if [[ -n "$old" ]] && kill -0 "$old" 2>/dev/null; then
      die "a Prism started earlier is still running (pid $old); run 'scripts/prism.sh stop' first"
    fi
    rm -f "$base.pid"
  fi

  ensure_installed
  launch "$base"
  printf 'http://127.0.0.1:%s\n' "$SERVER_PORT" >"$base.url"
  printf 'PRISM_URL=http://127.0.0.1:%s\n' "$SERVER_PORT"
}

cmd_stop() {
  [[ $# -eq 0 ]] || usage 2
  local base="$PRISM_DIR/prism" pid
  if [[ ! -f "$base.pid" ]]; then
    say "no pid file at $base.pid; nothing to stop"
    return 0
  fi
  pid="$(<"$base.pid")"
  case "$pid" in '' | *[!0-9]*) die "pid file $base.pid does not hold a process id" ;; esac

  if kill -0 "$pid" 2>/dev/null; then
    # Guard against a recycled pid: only end it if it still looks like Prism.
    if [[ -r "/proc/$pid/cmdline" ]] && ! tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q prism; then
      say "pid $pid is no longer Prism; leaving it alone"
    else
      terminate "$pid"
      say "stopped Prism (pid $pid)"
    fi
  else
    say "Prism (pid $pid) was not running"
  fi
  rm -f "$base.pid" "$base.url"
}

cmd_run() {
  if [[ "${1:-}" == "--" ]]; then
    shift
  fi
  [[ $# -gt 0 ]] || usage 2
  check_tools
  prepare_dir
  ensure_installed

  # Files of their own, so a run does not disturb a server left by `start`.
  local base="$PRISM_DIR/prism-run.$$"
  RUN_BASE="$base"
  RUN_STATUS=1
  trap finish_run EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  launch "$base"
  export PRISM_URL="http://127.0.0.1:$SERVER_PORT"

  say "running: $*"
  RUN_STATUS=0
  "$@" || RUN_STATUS=$?
  exit "$RUN_STATUS"
}

# EXIT trap of `run`: stops the server and tidies its files (the log is kept when the
# command failed, because Prism logs why it rejected a request there).
finish_run() {
  local status=$?
  if [[ -n "$SERVER_PID" ]]; then
    terminate "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
    say "stopped Prism (pid $SERVER_PID)"
  fi
  rm -f "$RUN_BASE.pid"
  if [[ "$RUN_STATUS" -eq 0 && "$status" -eq 0 ]]; then
    rm -f "$RUN_BASE.log"
  elif [[ -f "$RUN_BASE.log" ]]; then
    say "Prism's log is kept at $RUN_BASE.log"
  fi
  exit "$status"
}

main() {
  local sub="${1:-}"
  [[ $# -gt 0 ]] && shift
  case "$sub" in
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    run) cmd_run "$@" ;;
    help | -h | --help) usage 0 ;;
    *) usage 2 ;;
  esac
}

main "$@"
