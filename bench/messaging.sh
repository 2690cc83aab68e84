#!/usr/bin/env bash
# Messaging benchmark: durable messages accepted per second and the acknowledgement
# latency with N concurrent senders, then send -> recipient-socket latency at a
# steady rate, and the messaging service's and gateway's memory. Everything goes
# through the gateway over TLS (bench/messaging/, alliance-messaging-bench): every message
# is really sealed with the client SDK on its sending device; with BENCH_SEAL_AHEAD the
# accepted-rate phase sends requests made before it from one thread, so the figure is the
# servers' and the client's own CPU per message is printed next to theirs.
# Starts its own redis + identity + messaging + scheduling + gateway (scripts/run via
# bench/lib.sh) in a temporary state directory on free loopback ports, measures,
# prints a summary, and stops everything it started.
# Exits non-zero if a message failed, went missing or did not open on its recipient.
#
#   bench/messaging.sh
#
# Knobs (environment):
#   ALLIANCE_BUILD_DIR      build folder (default: build/)
#   BENCH_SENDERS           concurrent senders per run, comma-separated (1,8,32,64)
#   BENCH_PAIRS             client-therapist pairs the senders are spread over (16)
#   BENCH_SECONDS           measured seconds per sender count, after 1 s warm-up (5)
#   BENCH_MESSAGE_BYTES     plaintext bytes per message (200)
#   BENCH_PUSH_RATE         offered messages/s for the send -> socket run (200)
#   BENCH_PUSH_SECONDS      measured seconds of that run, after 1 s warm-up (10)
#   BENCH_PUSH_PAIRS        senders (and online recipients) in that run (8)
#   BENCH_SEAL_AHEAD        messages each sender seals before the accepted-rate phase (0: seal
#                           each just before its request, one SDK thread per sender); e.g. 400
#                           to measure the servers without the client's ~1 ms of sealing per
#                           message on the same cores: then one thread sends over N keep-alive
#                           connections, and a sender that runs out makes the phase run again
#                           with enough sealed for the rate it saw
#   BENCH_SCRYPT_LOG2_N     identity's password hashing cost for this private system (12;
#                           only the set-up logs in, nothing measured hashes a password)
#   BENCH_KEEP_STATE=1      keep the temporary state directory (logs, databases)
#   BENCH_SYSCALLS=1        also count each server process's system calls per accepted message over
#                           the measured seconds of a) (perf's syscall tracepoints; needs perf and
#                           one N in BENCH_SENDERS). Like an instruction count, a count of calls
#                           does not move with the machine's load, so it shows changes of a few
#                           percent that CPU time per message, which moves ~10% between runs, hides
#   BENCH_CALLGRIND=1       also count the user-space instructions the gateway and messaging
#                           (BENCH_CALLGRIND_PROCESSES, "gateway messaging"; identity may be named
#                           too) run per accepted message
#                           over the measured seconds of a), each restarted on one I/O thread under
#                           callgrind (needs valgrind; one N in BENCH_SENDERS, e.g. 8). A count of
#                           instructions does not move with the machine's load either; the rate of
#                           such a run is callgrind's, not the servers'. Profiles stay in the state
#                           directory (callgrind_annotate callgrind-PROCESS.out.1)
#   BENCH_SKIP_BUILD=1      use the binaries already in ALLIANCE_BUILD_DIR (e.g. a copy of an older
#                           build's, to compare two commits back to back)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export ALLIANCE_BUILD_DIR="${ALLIANCE_BUILD_DIR:-$root/build}"
build="$ALLIANCE_BUILD_DIR"
senders="${BENCH_SENDERS:-1,8,32,64}"
pairs="${BENCH_PAIRS:-16}"
seconds="${BENCH_SECONDS:-5}"
message_bytes="${BENCH_MESSAGE_BYTES:-200}"
push_rate="${BENCH_PUSH_RATE:-200}"
push_seconds="${BENCH_PUSH_SECONDS:-10}"
push_pairs="${BENCH_PUSH_PAIRS:-8}"
seal_ahead="${BENCH_SEAL_AHEAD:-0}"
bench_scrypt_log2_n=12  # identity's cost unless BENCH_SCRYPT_LOG2_N is set (start_system, bench/lib.sh)
# The bench's senders are few users sending far more than a person would: no per-user limit.
export ALLIANCE_MESSAGING_SEND_RATE_PER_MINUTE=0
bench="$build/bench/messaging/alliance-messaging-bench"

# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"

build_for_bench alliance-messaging-bench

start_system

# BENCH_CALLGRIND=1: the chosen processes run under callgrind with counting off; a) turns it
# on and off through FIFOs, which a reader per process turns into callgrind_control.
callgrind_processes=() callgrind_readers=()
if [[ "${BENCH_CALLGRIND:-0}" == 1 ]]; then
  [[ "$senders" != *,* ]] || die "BENCH_CALLGRIND=1 counts one phase: give BENCH_SENDERS a single N"
  [[ "${BENCH_SYSCALLS:-0}" != 1 ]] || die "BENCH_CALLGRIND=1 and BENCH_SYSCALLS=1 are separate runs"
  read -r -a callgrind_processes <<<"${BENCH_CALLGRIND_PROCESSES:-gateway messaging}"
  for s in "${callgrind_processes[@]}"; do
    callgrind_out="$state/callgrind-$s.out"
    case $s in
      messaging) rm -f "$state/messaging.ready"
                 restart_under_callgrind messaging test -f "$state/messaging.ready" ;;
      identity) rm -f "$state/identity.ready"
                restart_under_callgrind identity test -f "$state/identity.ready" ;;
      gateway) restart_under_callgrind gateway curl -sf --cacert "$ca" "$gateway/readyz" -o /dev/null ;;
      *) die "BENCH_CALLGRIND_PROCESSES: gateway, messaging and/or identity" ;;
    esac
  done
  # The gateway reconnects to a restarted messaging on its next call.
  for _ in $(seq 1 100); do curl -sf --cacert "$ca" "$gateway/readyz" -o /dev/null && break; sleep 0.2; done
fi

cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"; }
mem_of() { awk '/^VmRSS:/ {r=$2} /^VmHWM:/ {h=$2} END {printf "VmRSS %s KiB (peak VmHWM %s KiB)", r, h}' "/proc/$1/status"; }
names=(gateway messaging identity scheduling redis)
declare -A pid cpu_before mem_before
for s in "${names[@]}"; do
  pid[$s]="$(cat "$state/$s.pid")"
  cpu_before[$s]="$(cpu_s "${pid[$s]}")"
  mem_before[$s]="$(mem_of "${pid[$s]}")"
done
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
started=$SECONDS
( while :; do cut -d' ' -f1 /proc/loadavg; sleep 2; done ) >"$state/load.samples" &
sampler_pid=$!
bench_pids+=("$sampler_pid")

# BENCH_SYSCALLS=1: one `perf stat` per server process, started with its counters off; the
# benchmark turns them on and off around a)'s measured seconds through each one's FIFO.
syscall_names=(recvfrom sendto recvmsg sendmsg read write pwrite64 fdatasync epoll_wait epoll_ctl futex)
perf_args=() perf_pids=()
if [[ "${BENCH_SYSCALLS:-0}" == 1 ]]; then
  command -v perf >/dev/null || die "BENCH_SYSCALLS=1 needs perf (apt-get install linux-perf)"
  [[ "$senders" != *,* ]] || die "BENCH_SYSCALLS=1 counts one phase: give BENCH_SENDERS a single N"
  events=""
  for c in "${syscall_names[@]}"; do events+="syscalls:sys_enter_$c,"; done
  events+="raw_syscalls:sys_enter"
  for s in gateway messaging identity redis; do
    mkfifo -m 600 "$state/perf-$s.ctl"
    perf stat -x, -e "$events" --delay=-1 --control "fifo:$state/perf-$s.ctl" -p "${pid[$s]}" \
      -o "$state/syscalls-$s.csv" 2>>"$state/perf.err" &
    perf_pids+=("$!")
    bench_pids+=("$!")
    perf_args+=(--perf-control "$state/perf-$s.ctl")
  done
  sleep 0.5  # each perf opens its FIFO before the benchmark writes to it
fi

if (( ${#callgrind_processes[@]} )); then
  command -v callgrind_control >/dev/null || die "BENCH_CALLGRIND=1 needs callgrind_control (valgrind)"
  for s in "${callgrind_processes[@]}"; do
    mkfifo -m 600 "$state/callgrind-$s.ctl"
    # Held open for reading and writing, so the benchmark's non-blocking open always finds a
    # reader; "disable" dumps the counts of the measured seconds (callgrind-$s.out.1).
    ( exec 3<>"$state/callgrind-$s.ctl"
      while read -r command <&3; do
        case $command in
          enable) callgrind_control -i on "${pid[$s]}" >/dev/null 2>&1 ;;
          disable) callgrind_control -d "${pid[$s]}" >/dev/null 2>&1
                   callgrind_control -i off "${pid[$s]}" >/dev/null 2>&1
                   touch "$state/callgrind-$s.done" ;;
        esac
      done ) >/dev/null 2>&1 &
    callgrind_readers+=("$!")
    bench_pids+=("$!")
    perf_args+=(--perf-control "$state/callgrind-$s.ctl")
  done
fi

log "running alliance-messaging-bench (set-up, accepted messages for N = $senders, pushes at $push_rate msg/s)"
bench_rc=0
timeout 600 "$bench" --url "$gateway" --ca "$ca" --operator-token-file "$state/certs/operator.token" \
  --senders "$senders" --pairs "$pairs" --seconds "$seconds" --message-bytes "$message_bytes" \
  --push-rate "$push_rate" --push-seconds "$push_seconds" --push-pairs "$push_pairs" --seal-ahead "$seal_ahead" \
  --watch "gateway=${pid[gateway]}" --watch "messaging=${pid[messaging]}" --watch "identity=${pid[identity]}" \
  --watch "redis=${pid[redis]}" "${perf_args[@]}" >"$state/bench.out" || bench_rc=$?
for p in "${perf_pids[@]}"; do kill -INT "$p" 2>/dev/null; wait "$p" 2>/dev/null || true; done
for p in "${callgrind_readers[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null || true; done

load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
kill -TERM "$sampler_pid" 2>/dev/null; wait "$sampler_pid" 2>/dev/null || true
bench_pids=()
load_during="$(sort -g "$state/load.samples" | sed -n '1p;$p' | paste -sd' ' | awk '{ print $1 " to " $NF }')"
cpu_line=""
declare -A mem_after
for s in "${names[@]}"; do
  if kill -0 "${pid[$s]}" 2>/dev/null; then
    cpu_line+="$s $(awk -v a="$(cpu_s "${pid[$s]}")" -v b="${cpu_before[$s]}" 'BEGIN { printf "%.1f", a - b }') s, "
    mem_after[$s]="$(mem_of "${pid[$s]}")"
  else
    cpu_line+="$s DIED, "
    mem_after[$s]="gone"
    bench_rc=1
  fi
done
curl -sf --cacert "$ca" "$gateway/readyz" >/dev/null || { log "the gateway is not ready after the run"; bench_rc=1; }

# Verdicts against DESIGN.md's budgets, from the RESULT line.
result="$(grep '^RESULT ' "$state/bench.out" || true)"
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$result"; }
best_rps=0 best_n="" peak_rps=0 peak_n=""
for n in ${senders//,/ }; do
  rps="$(field "n${n}_rps")"; p99="$(field "n${n}_p99_ms")"
  [[ -n "$rps" ]] || continue
  (( rps > peak_rps )) && { peak_rps=$rps; peak_n=$n; }
  if awk -v p="$p99" 'BEGIN { exit !(p <= 5) }' && (( rps > best_rps )); then best_rps=$rps; best_n=$n; fi
done
accept_verdict="MISSES"; (( best_rps >= 20000 )) && accept_verdict="meets"
cpu_n="${peak_n:-}"
client_cpu="at N=${cpu_n:-?}: this client $(field "n${cpu_n}_client_us") us, servers $(field "n${cpu_n}_servers_us") us"
client_cpu+=" (gateway + messaging + redis), identity $(field "n${cpu_n}_identity_us") us"
if [[ "$seal_ahead" -gt 0 ]]; then
  client_kind="sealed ahead; a) sent from one thread over N keep-alive TLS connections, b) blocking SDK"
else
  client_kind="blocking SDK, one thread per connection, sealing included"
fi
push_p99="$(field push_p99_ms)"
push_verdict="$(awk -v p="${push_p99:-999999}" 'BEGIN { print (p <= 20) ? "meets" : "MISSES" }')"

mem_total="$(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
model="$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
commit="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
git -C "$root" diff --quiet HEAD -- services libs 2>/dev/null || commit="$commit (+ uncommitted changes in services/ or libs/)"
fs="$(df -T "$state" | awk 'NR == 2 { print $2 " on " $1 }')"

cat <<SUMMARY

================ Alliance messaging benchmark ================
machine:     $(nproc) CPUs ($model), $mem_total RAM, Linux $(uname -r)
load avg:    $load_before before, $load_after after (1/5/15 min); 1-min $load_during during the run
             (the benchmark itself keeps both CPUs busy; "before" above ~0.5 means other work shared them)
build:       $build (CMAKE_BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build/CMakeCache.txt")), commit $commit
conditions:  everything on loopback; one gateway, messaging, identity, scheduling (idle) and redis process and
             the benchmark client ($client_kind)
             share the same CPUs; TLS 1.3 to the gateway, mutual TLS gateway -> messaging -> identity; messaging's
             SQLite in WAL mode, synchronous=FULL, on $fs; send_rate_per_minute $ALLIANCE_MESSAGING_SEND_RATE_PER_MINUTE; identity scrypt log2 N $scrypt_log2_n
CPU used during the run ($(( SECONDS - started )) s, set-up included): ${cpu_line%, }
memory before -> after the run:
  messaging  ${mem_before[messaging]} -> ${mem_after[messaging]}
  gateway    ${mem_before[gateway]} -> ${mem_after[gateway]}

$(cat "$state/bench.out")

budgets (DESIGN.md, 2 cores):
  accepted >= 20k msg/s with p99 ack <= 5 ms: $accept_verdict (best with p99 <= 5 ms: ${best_rps} msg/s${best_n:+ at N=$best_n};
    highest: ${peak_rps} msg/s${peak_n:+ at N=$peak_n})
  CPU per accepted message $client_cpu
  pushed to an online recipient p99 <= 20 ms: $push_verdict (p99 ${push_p99:-?} ms at $push_rate msg/s)
==============================================================
SUMMARY
# The per-message counts below (system calls, instructions) divide by the messages accepted over
# a)'s measured seconds; they are not given when the phase ran again (the counts hold both runs)
# or nothing was accepted.
ok="$(sed -n 's/.*(\([0-9]*\) ok in .*/\1/p' "$state/bench.out" | head -n 1)"
counts_void=""
if grep -q 'resized from' "$state/bench.out"; then
  counts_void="the phase was run again (resized), and the counts hold both runs"
elif [[ -z "$ok" || "$ok" -eq 0 ]]; then
  counts_void="no message was accepted"
fi
if [[ "${BENCH_SYSCALLS:-0}" == 1 ]]; then
  if [[ -n "$counts_void" ]]; then
    echo "system calls: not given, $counts_void"
  else
    echo "system calls per accepted message over a)'s measured seconds (N=$senders, $ok messages):"
    for s in gateway messaging identity redis; do
      awk -F, -v n="$ok" -v who="$s" '$3 ~ /sys_enter/ && $1 ~ /^[0-9]/ {
          name = $3; sub(/^syscalls:sys_enter_/, "", name); sub(/^raw_syscalls:sys_enter$/, "all", name)
          if ($1 + 0 > 0) line = line sprintf(" %s %.2f", name, $1 / n) }
        END { printf "  %-10s%s\n", who, line }' "$state/syscalls-$s.csv"
    done
  fi
fi
if (( ${#callgrind_processes[@]} )); then
  if [[ -n "$counts_void" ]]; then
    echo "instructions: not given, $counts_void"
  else
    echo "user-space instructions per accepted message over a)'s measured seconds (N=$senders, $ok messages, under callgrind; 1-min load $(cut -d' ' -f1 /proc/loadavg)):"
    for s in "${callgrind_processes[@]}"; do
      for _ in $(seq 1 50); do [[ -f "$state/callgrind-$s.done" ]] && break; sleep 0.2; done
      ir="$(sed -n 's/^totals: \([0-9]*\).*/\1/p' "$state/callgrind-$s.out.1" 2>/dev/null)"
      if [[ -z "$ir" ]]; then
        echo "  $s: not given (no dump of the measured seconds)"
      else
        awk -v who="$s" -v ir="$ir" -v n="$ok" 'BEGIN { printf "  %-10s %.0f\n", who, ir / n }'
        callgrind_annotate "$state/callgrind-$s.out.1" >"$state/callgrind-$s-top.txt" 2>/dev/null || true
      fi
    done
  fi
  BENCH_KEEP_STATE=1
  log "profiles: $state/callgrind-*.out.1 (top functions: $state/callgrind-*-top.txt)"
fi
[[ $bench_rc -eq 0 ]] || die "the benchmark failed (exit $bench_rc): see above"
