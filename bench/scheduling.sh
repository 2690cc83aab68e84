#!/usr/bin/env bash
# Scheduling benchmark: slot search over 4 weeks and bookings on distinct slots
# (throughput, p50/p99), then the same fresh slot booked by 100 connections at once,
# 20 times: exactly one booking every time. Everything goes through the gateway over
# TLS with the client SDK (bench/scheduling/, alliance-scheduling-bench). Starts its
# own redis + identity + scheduling + gateway (via scripts/run) in a temporary state
# directory on free loopback ports, measures, prints a summary, and stops everything
# it started. Exits non-zero if any round did not end with exactly one booking.
#
#   bench/scheduling.sh
#
# Knobs (environment):
#   ALLIANCE_BUILD_DIR         build folder (default: build/)
#   BENCH_SEARCH_CONNECTIONS   connections (one thread each) for the slot search (8)
#   BENCH_SEARCH_SECONDS       measured seconds of slot search, after 1 s warm-up (10)
#   BENCH_BOOK_THREADS         booking threads (one connection each) (8)
#   BENCH_BOOK_SECONDS         measured seconds of bookings, after 1 s warm-up (10)
#   BENCH_VIEW_SECONDS         measured seconds of the front desk's week calendar view (5)
#   BENCH_RACE_ROUNDS          same-slot rounds (20)
#   BENCH_RACERS               concurrent bookings of the slot per round (100)
#   BENCH_SCRYPT_LOG2_N        identity's password hashing cost for this private system (10;
#                              only the bootstrap hashes passwords, nothing measured does)
#   BENCH_KEEP_STATE=1         keep the temporary state directory (logs, databases)
#   ALLIANCE_SCHEDULING_THREADS, ALLIANCE_IDENTITY_THREADS, ALLIANCE_GATEWAY_THREADS
#                              the services' `threads` keys (default: the usable CPUs); to
#                              compare, run the script once per value, back to back
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export ALLIANCE_BUILD_DIR="${ALLIANCE_BUILD_DIR:-$root/build}"
build="$ALLIANCE_BUILD_DIR"
search_connections="${BENCH_SEARCH_CONNECTIONS:-8}"
search_seconds="${BENCH_SEARCH_SECONDS:-10}"
book_threads="${BENCH_BOOK_THREADS:-8}"
book_seconds="${BENCH_BOOK_SECONDS:-10}"
view_seconds="${BENCH_VIEW_SECONDS:-5}"
race_rounds="${BENCH_RACE_ROUNDS:-20}"
racers="${BENCH_RACERS:-100}"
bench="$build/bench/scheduling/alliance-scheduling-bench"

# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"

log "building (scripts/build into $build)"
"$root/scripts/build" --target alliance-scheduling-bench alliance-gateway alliance-identity alliance-scheduling \
  alliancectl >/dev/null

start_system

# CPU seconds (user + system) a process has used so far.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"; }
names=(gateway scheduling identity redis)
declare -A pid cpu_before
for s in "${names[@]}"; do pid[$s]="$(cat "$state/$s.pid")"; cpu_before[$s]="$(cpu_s "${pid[$s]}")"; done
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
started=$SECONDS
# The 1-minute load average every 2 s while the benchmark runs (other work shares the CPUs).
( while :; do cut -d' ' -f1 /proc/loadavg; sleep 2; done ) >"$state/load.samples" &
sampler_pid=$!
bench_pids+=("$sampler_pid")

log "running alliance-scheduling-bench (bootstrap, search, bookings, calendar views, same-slot rounds)"
bench_rc=0
cpu_pids="gateway=${pid[gateway]},scheduling=${pid[scheduling]},identity=${pid[identity]},redis=${pid[redis]}"
timeout 900 "$bench" --url "$gateway" --ca "$ca" --operator-token-file "$state/certs/operator.token" \
  --cpu-pids "$cpu_pids" \
  --search-connections "$search_connections" --search-seconds "$search_seconds" \
  --book-threads "$book_threads" --book-seconds "$book_seconds" --view-seconds "$view_seconds" \
  --race-rounds "$race_rounds" --racers "$racers" >"$state/bench.out" || bench_rc=$?

load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
kill -TERM "$sampler_pid" 2>/dev/null; wait "$sampler_pid" 2>/dev/null || true
bench_pids=()
load_during="$(sort -g "$state/load.samples" | sed -n '1p;$p' | paste -sd' ' | awk '{ print $1 " to " $NF }')"
cpu_line=""
for s in "${names[@]}"; do
  if kill -0 "${pid[$s]}" 2>/dev/null; then
    cpu_line+="$s $(awk -v a="$(cpu_s "${pid[$s]}")" -v b="${cpu_before[$s]}" 'BEGIN { printf "%.1f", a - b }') s, "
  else
    cpu_line+="$s DIED, "
    bench_rc=1
  fi
done
curl -sf --cacert "$ca" "$gateway/readyz" >/dev/null || { log "the gateway is not ready after the run"; bench_rc=1; }

mem_total="$(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
model="$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
commit="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
git -C "$root" diff --quiet HEAD -- services libs 2>/dev/null || commit="$commit (+ uncommitted changes in services/ or libs/)"

cat <<SUMMARY

================ Alliance scheduling benchmark ================
machine:     $(nproc) CPUs ($model), $mem_total RAM, Linux $(uname -r)
load avg:    $load_before before, $load_after after (1/5/15 min); 1-min $load_during during the run
             (the benchmark itself keeps both CPUs busy; "before" above ~0.5 means other work shared them)
build:       $build (CMAKE_BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build/CMakeCache.txt")), commit $commit
threads:     gateway ${ALLIANCE_GATEWAY_THREADS:-default}, identity ${ALLIANCE_IDENTITY_THREADS:-default}, scheduling ${ALLIANCE_SCHEDULING_THREADS:-default} (default = the usable CPUs, $(nproc) here)
conditions:  everything on loopback; one gateway, identity, scheduling and redis process and the benchmark
             client (blocking SDK, one thread per connection) share the same CPUs; TLS through the gateway,
             mutual TLS gateway -> scheduling -> identity; SQLite WAL synchronous=FULL in $state/data
CPU used during the run ($(( SECONDS - started )) s): ${cpu_line%, }

$(cat "$state/bench.out")
===============================================================
SUMMARY
[[ $bench_rc -eq 0 ]] || die "the benchmark failed (exit $bench_rc): see above"
