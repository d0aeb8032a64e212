#!/usr/bin/env bash
# The CPU cost of the demo city's generated part (issue #16): `citytwin demo` is run twice on a fresh
# data dir, with and without its generated city (--no-generated), both with every application; after
# a warm-up, the server process's CPU time (utime + stime from /proc/<pid>/stat) is read over the
# same window. The generated city's cost is the difference, in % of one core; the target is 10 %.
#
#   bash bench/apps/run.sh                 # BIN=build/release/citytwin WARMUP=15 DURATION=40 SEED=1
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-build/release/citytwin}
WARMUP=${WARMUP:-15}
DURATION=${DURATION:-40}
SEED=${SEED:-1}
TICK=$(getconf CLK_TCK)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# measure LABEL [demo options...]: prints "LABEL cpu% writes/s"
measure() {
  local label=$1; shift
  local dir port pid
  dir=$(mktemp -d /tmp/citytwin-bench-apps-XXXXXX)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$BIN" demo --listen "127.0.0.1:$port" --data-dir "$dir/data" --seed "$SEED" --log-level warn "$@" >"$dir/log" 2>&1 &
  pid=$!
  for _ in $(seq 1 200); do
    curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
    sleep 0.1
  done
  sleep "$WARMUP"
  local t0 w0 t1 w1
  t0=$(cpu_ticks "$pid")
  w0=$(curl -s "http://127.0.0.1:$port/metrics" | awk '/^citytwin_host_events_queued_total/ {s += $2} END {print s + 0}')
  sleep "$DURATION"
  t1=$(cpu_ticks "$pid")
  w1=$(curl -s "http://127.0.0.1:$port/metrics" | awk '/^citytwin_host_events_queued_total/ {s += $2} END {print s + 0}')
  kill -TERM "$pid"
  wait "$pid" || true
  rm -rf "$dir"
  awk -v l="$label" -v a="$t0" -v b="$t1" -v hz="$TICK" -v d="$DURATION" -v w0="$w0" -v w1="$w1" \
    'BEGIN { printf "%-28s %6.1f %% of a core  %8.0f app changes/s\n", l, 100 * (b - a) / hz / d, (w1 - w0) / d }'
}

echo "citytwin demo, seed $SEED, warm-up ${WARMUP}s, window ${DURATION}s, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
with=$(measure "with the generated city")
echo "$with"
without=$(measure "without (--no-generated)" --no-generated)
echo "$without"
awk -v a="$(echo "$with" | awk '{print $(NF-7)}')" -v b="$(echo "$without" | awk '{print $(NF-7)}')" \
  'BEGIN { printf "the generated city costs %.1f %% of one core (target: at most 10 %%)\n", a - b }'
