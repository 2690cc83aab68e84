#!/usr/bin/env bash
# Reminders benchmark: with 1,000 clients each holding an authenticated WebSocket
# through the gateway, (a) 5,000 reminders due evenly over 10 s: lateness from the due
# instant to the client's socket; (b) 10,000 due at one instant: time until the last
# is received; (c) the same burst with a second alliance-reminders on the same
# database, the one holding the leases killed with SIGKILL in the middle of it: lost,
# shown twice, raw duplicates and the takeover time. Plus CPU per reminder and memory
# of reminders, gateway and redis, and the 1-minute load with every figure.
# The tool (bench/reminders/, alliance-reminders-bench) books real appointments through
# the public API, then makes their planned reminders due at chosen instants the way the
# integration tests do (due_ms moved in the service's SQLite file, PUBLISH
# reminders:wake); the service fires them through its normal path.
# Starts its own redis + identity + messaging + scheduling + reminders + gateway
# (scripts/run via bench/lib.sh) in a temporary state directory on free loopback ports,
# measures, prints a summary, and stops everything it started (the second instance too).
# Exits non-zero if a reminder was lost, shown twice, malformed or sent to the wrong client.
#
#   bench/reminders.sh          # 1-3 minutes (up to 3 x BENCH_SETTLE_MAX waiting for the load to drop)
#
# Knobs (environment):
#   ALLIANCE_BUILD_DIR      build folder (default: build/)
#   BENCH_CLIENTS           clients, one WebSocket each (1000)
#   BENCH_THERAPISTS        therapists the appointments are spread over (20)
#   BENCH_SPREAD            a) reminders due evenly over BENCH_SPREAD_SECONDS (5000)
#   BENCH_SPREAD_SECONDS    a) (10)
#   BENCH_BURST             b) reminders due at one instant (10000; 0 skips b)
#   BENCH_FAILOVER_BURST    c) reminders due at one instant with two instances (10000; 0 skips c)
#   BENCH_KILL_AT_MS        c) kill this long after the due instant (default: half of b's time to the last)
#   BENCH_IDLE_SECONDS      CPU with every socket open and nothing due, measured before a) (3; 0 skips)
#   BENCH_SETTLE_LOAD       before each phase wait until the 1-minute load is at most this (0.7; 0: no wait),
#   BENCH_SETTLE_MAX        but at most this many seconds (45): the set-up's own load would count otherwise
#   BENCH_SCRYPT_LOG2_N     identity's password hashing cost for this private system (10; only the
#                           set-up signs in, nothing measured hashes a password)
#   BENCH_SKIP_BUILD=1      use the binaries in the build folder as they are
#   BENCH_KEEP_STATE=1      keep the temporary state directory (logs, databases)
# Service settings can be changed through the environment as usual, e.g.
# ALLIANCE_REMINDERS_LEASE=1s (both instances read it).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export ALLIANCE_BUILD_DIR="${ALLIANCE_BUILD_DIR:-$root/build}"
build="$ALLIANCE_BUILD_DIR"
clients="${BENCH_CLIENTS:-1000}"
therapists="${BENCH_THERAPISTS:-20}"
spread="${BENCH_SPREAD:-5000}"
spread_seconds="${BENCH_SPREAD_SECONDS:-10}"
burst="${BENCH_BURST:-10000}"
failover_burst="${BENCH_FAILOVER_BURST:-10000}"
kill_at_ms="${BENCH_KILL_AT_MS:--1}"
idle_seconds="${BENCH_IDLE_SECONDS:-3}"
settle_load="${BENCH_SETTLE_LOAD:-0.7}"
settle_max="${BENCH_SETTLE_MAX:-45}"
bench_scrypt_log2_n=10  # identity's cost unless BENCH_SCRYPT_LOG2_N is set (start_system, bench/lib.sh)
bench="$build/bench/reminders/alliance-reminders-bench"

# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"

build_for_bench alliance-reminders-bench

# The clients' sockets on each side of the gateway, plus the services' own.
raise_open_files "$clients"

start_system

# The second instance for phase c: same config, another RPC port and lease name. The
# tool runs this when it gets there; it prints NAME=PID. Stopped on exit.
free_port; second_port="$port"
cat >"$state/start-reminders-b.sh" <<SCRIPT
#!/usr/bin/env bash
set -euo pipefail
rm -f "$state/reminders-b.ready"
"$build/services/reminders/alliance-reminders" --config "$state/reminders.conf" --listen "127.0.0.1:$second_port" \\
  --instance b --ready_file "$state/reminders-b.ready" >"$state/logs/reminders-b.log" 2>&1 </dev/null &
echo "\$!" >"$state/reminders-b.pid"
for _ in \$(seq 1 200); do [[ -s "$state/reminders-b.ready" ]] && break; sleep 0.05; done
[[ -s "$state/reminders-b.ready" ]] || { echo "reminders b did not start" >&2; exit 1; }
echo "b=\$(cat "$state/reminders-b.pid")"
SCRIPT
chmod 700 "$state/start-reminders-b.sh"
stop_second() {
  local pid
  pid="$(cat "$state/reminders-b.pid" 2>/dev/null || true)"
  if [[ -n "$pid" ]] && grep -qa alliance-reminders "/proc/$pid/cmdline" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
}
# set +e first: under errexit the (exit $rc) that hands bench_cleanup the status would end the trap.
trap 'rc=$?; set +e; stop_second; (exit $rc); bench_cleanup' EXIT

cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"; }
names=(gateway reminders redis identity scheduling messaging)
declare -A pid cpu_before
for s in "${names[@]}"; do
  pid[$s]="$(cat "$state/$s.pid")"
  cpu_before[$s]="$(cpu_s "${pid[$s]}")"
done
# The lease name of the instance scripts/run started (alliance-reminders' default).
instance_a="${ALLIANCE_REMINDERS_INSTANCE:-$(uname -n)-${pid[reminders]}}"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
started=$SECONDS
( while :; do cut -d' ' -f1 /proc/loadavg; sleep 2; done ) >"$state/load.samples" &
sampler_pid=$!
bench_pids+=("$sampler_pid")

log "running alliance-reminders-bench (set-up, then a) $spread over ${spread_seconds}s, b) $burst at once," \
  "c) $failover_burst at once with a kill -9)"
bench_rc=0
lease_ms="$(awk -v l="${ALLIANCE_REMINDERS_LEASE:-1s}" 'BEGIN {
  v = l + 0; if (l ~ /ms$/) print v; else if (l ~ /m$/) print v * 60000; else print v * 1000 }')"
timeout 600 "$bench" --url "$gateway" --ca "$ca" --operator-token-file "$state/certs/operator.token" \
  --database "$state/data/reminders.db" --redis "127.0.0.1:$redis_port" \
  --redis-password-file "$state/certs/redis-reminders.password" --redis-ca "$state/certs/ca.pem" \
  --redis-cert "$state/certs/reminders.pem" --redis-key "$state/certs/reminders.key" \
  --instance "$instance_a=${pid[reminders]}" --start-second "$state/start-reminders-b.sh" \
  --watch "gateway=${pid[gateway]}" --watch "redis=${pid[redis]}" --watch-rest "identity=${pid[identity]}" \
  --watch-rest "scheduling=${pid[scheduling]}" --watch-rest "messaging=${pid[messaging]}" \
  --clients "$clients" --therapists "$therapists" --spread "$spread" --spread-seconds "$spread_seconds" \
  --burst "$burst" --failover-burst "$failover_burst" --kill-at-ms "$kill_at_ms" --lease-ms "$lease_ms" \
  --idle-seconds "$idle_seconds" --settle-load "$settle_load" --settle-max "$settle_max" \
  >"$state/bench.out" || bench_rc=$?

load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
kill -TERM "$sampler_pid" 2>/dev/null; wait "$sampler_pid" 2>/dev/null || true
bench_pids=()
load_during="$(sort -g "$state/load.samples" | sed -n '1p;$p' | paste -sd' ' | awk '{ print $1 " to " $NF }')"
cpu_line=""
for s in "${names[@]}"; do
  if kill -0 "${pid[$s]}" 2>/dev/null; then
    cpu_line+="$s $(awk -v a="$(cpu_s "${pid[$s]}")" -v b="${cpu_before[$s]}" 'BEGIN { printf "%.1f", a - b }') s, "
  elif [[ $s == reminders ]]; then
    cpu_line+="$s killed in c), "
  else
    cpu_line+="$s DIED, "
    bench_rc=1
  fi
done
# /healthz, not /readyz: the instance the gateway calls may be the one c) killed.
curl -sf --cacert "$ca" "$gateway/healthz" >/dev/null || { log "the gateway is not alive after the run"; bench_rc=1; }

# Verdicts against DESIGN.md's budgets, from the RESULT line.
result="$(grep '^RESULT ' "$state/bench.out" || true)"
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$result"; }
zero() { verdict "${1:-}" 0 "${2:-9}"; }
commit="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
git -C "$root" diff --quiet HEAD -- services libs 2>/dev/null ||
  commit="$commit (+ uncommitted changes in services/ or libs/)"
mem_total="$(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
model="$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
fs="$(df -T "$state" | awk 'NR == 2 { print $2 " on " $1 }')"
max_load="$(sort -g "$state/load.samples" | tail -n 1)"
loaded_note="the 1-minute load stayed below 1, the benchmark's own processes included"
awk -v l="${max_load:-9}" 'BEGIN { exit !(l >= 1) }' &&
  loaded_note="LOADED: the 1-minute load reached ${max_load}, the set-up's and the benchmark's own processes
             included; each phase below says its load and how much CPU anything else took meanwhile"

cat <<SUMMARY

================ Alliance reminders benchmark ================
machine:     $(nproc) CPUs ($model), $mem_total RAM, Linux $(uname -r)
load avg:    $load_before before, $load_after after (1/5/15 min); 1-min $load_during during the run
             ($loaded_note)
build:       $build (CMAKE_BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build/CMakeCache.txt")), commit $commit
conditions:  everything on loopback; one gateway, one reminders (two in c), identity, scheduling, messaging
             (idle), redis and the benchmark client (one socket thread) share the same CPUs; TLS 1.3 to the
             gateway; reminders' SQLite in WAL mode, synchronous=FULL, on $fs; lease ${ALLIANCE_REMINDERS_LEASE:-1s} (default
             lookahead 2s, rescan 5s unless set); identity scrypt log2 N $scrypt_log2_n
CPU used during the run ($(( SECONDS - started )) s, set-up included): ${cpu_line%, }

$(cat "$state/bench.out")

budgets (DESIGN.md, 2 cores), each judged only if its phase ran with a 1-minute load below 1:
  a) fired p99 <= 10 ms late: $(verdict "$(field a_p99_ms)" 10 "$(field a_load)")
     (p99 $(field a_p99_ms) ms, max $(field a_max_ms) ms; 1-min load $(field a_load))
  b) 10k due at once delivered within 250 ms: $(verdict "$(field b_last_ms)" 250 "$(field b_load)")
     (the last after $(field b_last_ms) ms; 1-min load $(field b_load))
  c) kill -9 of the lease holder mid-burst (1-min load $(field c_load)):
     lost 0: $(zero "$(field c_lost)" "$(field c_load)") ($(field c_lost))
     shown twice 0: $(zero "$(field c_twice)" "$(field c_load)") ($(field c_twice)); raw duplicate frames on the wire: $(field c_dups)
     takeover <= 2 s (the survivor's first delivery after the due instant):
       $(verdict "$(field c_takeover_after_due_ms)" 2000 "$(field c_load)") ($(field c_takeover_after_due_ms) ms; $(field c_takeover_after_kill_ms) ms after the kill)
     every reminder received within 2 s of the due instant: $(verdict "$(field c_last_ms)" 2000 "$(field c_load)") ($(field c_last_ms) ms)
==============================================================
SUMMARY
[[ $bench_rc -eq 0 ]] || die "the benchmark failed (exit $bench_rc): see above"
