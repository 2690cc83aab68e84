#!/usr/bin/env bash
# Gateway benchmark: HTTPS request latency and CPU per request through the gateway,
# for each gateway thread count asked for, and resident memory per idle authenticated
# WebSocket. Starts its own redis + identity + scheduling +
# gateway (via scripts/run) in a temporary state directory on free loopback ports,
# measures, prints a summary, and stops everything it started.
#
#   bench/gateway.sh
#
# Knobs (environment):
#   ALLIANCE_BUILD_DIR       build folder (default: build/)
#   BENCH_HTTP_CONNECTIONS   keep-alive HTTPS connections (32)
#   BENCH_HTTP_SECONDS       measured seconds per HTTPS run, after 1 s warm-up (10)
#   BENCH_WS_CONNECTIONS     idle WebSockets for the memory figure (10000)
#   BENCH_GATEWAY_THREADS    the gateway's I/O thread counts to compare, one system each,
#                            back to back ("1 2"; the WebSocket memory figure is taken
#                            on the last)
#   BENCH_IDENTITY_THREADS   identity's RPC I/O thread counts to compare ("1 2"): one
#                            system per pair of gateway and identity thread counts
#   BENCH_HALF_RATE          the open-loop run's rate in requests/s instead of half of the
#                            measured peak (to compare two builds at one offered rate)
#   BENCH_LOADGEN_THREADS    load generator threads (1; the machine has 2 cores and
#                            the gateway, identity and redis need them too)
#   BENCH_SCRYPT_LOG2_N      identity's password hashing cost for this private system (10;
#                            only the set-up logs in, nothing measured hashes a password)
#   BENCH_KEEP_STATE=1       keep the temporary state directory (logs) afterwards
#   BENCH_CALLGRIND=1        only the gateway's instructions per GET /v1/me under callgrind
#                            (one thread, BENCH_HTTP_CONNECTIONS connections, default 4 here,
#                            BENCH_CALLGRIND_RATE requests/s, default 250);
#                            BENCH_CALLGRIND_PROCESS=identity counts identity's instead
#   BENCH_SYSCALLS=1         only the gateway's system calls per GET /v1/me, counted by
#                            `perf stat` (kernel tracepoints), closed loop and then at half of
#                            that rate (gateway threads: the first of BENCH_GATEWAY_THREADS),
#                            with where the latency goes: the client's p50/p99, the gateway's
#                            own histograms (request read -> answer ready, and the RPC to
#                            identity in it) and each process's run-queue wait (schedstat)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export ALLIANCE_BUILD_DIR="${ALLIANCE_BUILD_DIR:-$root/build}"
build="$ALLIANCE_BUILD_DIR"
http_connections="${BENCH_HTTP_CONNECTIONS:-32}"
http_seconds="${BENCH_HTTP_SECONDS:-10}"
ws_connections="${BENCH_WS_CONNECTIONS:-10000}"
threads="${BENCH_LOADGEN_THREADS:-1}"
gateway_thread_counts="${BENCH_GATEWAY_THREADS:-1 2}"
identity_thread_counts="${BENCH_IDENTITY_THREADS:-1 2}"
loadgen="$build/tools/loadgen/alliance-loadgen"

# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"

# Open files: the gateway (started from this shell) and the load generator each hold
# one descriptor per WebSocket. The hard limit here is 20000.
hard_nofile="$(ulimit -Hn)"
want_nofile=20000
[[ "$hard_nofile" != unlimited && "$hard_nofile" -lt "$want_nofile" ]] && want_nofile="$hard_nofile"
ulimit -n "$want_nofile"
(( ws_connections + 200 <= want_nofile )) ||
  die "BENCH_WS_CONNECTIONS=$ws_connections needs more than the $want_nofile open files allowed"

log "building (scripts/build into $build)"
"$root/scripts/build" --target alliance-loadgen alliance-gateway alliance-identity alliance-scheduling alliancectl >/dev/null

gateway_alive() { kill -0 "$gateway_pid" 2>/dev/null && curl -sf --cacert "$ca" "$gateway/readyz" >/dev/null; }
me_answers() {
  gateway_alive && curl -sf --cacert "$ca" -H "Authorization: Bearer $(cat "$secrets/token")" "$gateway/v1/me" >/dev/null
}
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$gateway_pid/status"; }
result_field() { sed -n "s/^RESULT .*\\b$1=\\([^ ]*\\).*/\\1/p"; }

# One system with the gateway on $1 I/O threads and identity on $2: set-up, then the HTTPS runs.
https_round() {
gateway_threads="$1"
identity_threads="$2"
export ALLIANCE_GATEWAY_THREADS="$gateway_threads" ALLIANCE_IDENTITY_THREADS="$identity_threads"
# Every WebSocket below is opened with the one client's token: lift the per-session and
# per-user socket caps (5 and 20 by default) for this private system.
export ALLIANCE_GATEWAY_WS_MAX_PER_SESSION="$ws_connections" ALLIANCE_GATEWAY_WS_MAX_PER_USER="$ws_connections"
start_system
gateway_pid="$(cat "$state/gateway.pid")"
identity_pid="$(cat "$state/identity.pid")"

# --- bootstrap through the public API: a practice, its admin, one client user -------
# Secrets go through 0600 files (curl -d @file, -H @file), never the command line.
umask 077
secrets="$state/secrets"
mkdir -p "$secrets"
# Random hex in groups of three ("3fa-9c0-..."): never a run like "abcd" or "0000",
# which identity's password policy refuses.
random_password() { openssl rand -hex 16 | sed 's/.../&-/g; s/-$//'; }
admin_password="$(random_password)"
client_password="$(random_password)"
api() {  # METHOD PATH BODY_FILE [HEADER_FILE] -> body on stdout; fails on non-2xx
  local out="$secrets/response" code
  local args=(-sS --cacert "$ca" -X "$1" "$gateway$2" -H 'content-type: application/json' -d "@$3" -o "$out"
              -w '%{http_code}')
  [[ $# -ge 4 ]] && args+=(-H "@$4")
  code="$(curl "${args[@]}")" || die "$1 $2: curl failed"
  [[ "$code" == 2* ]] || die "$1 $2: HTTP $code: $(head -c 300 "$out")"
  cat "$out"
}
json_field() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p"; }

printf '{"operator_token":"%s","name":"Benchmark Practice","slug":"bench","admin_email":"admin@bench.example",' \
  "$(cat "$state/certs/operator.token")" >"$secrets/practice.json"
printf '"admin_password":"%s","admin_display_name":"Bench Admin"}' "$admin_password" >>"$secrets/practice.json"
api POST /v1/practices "$secrets/practice.json" >/dev/null
printf '{"practice":"bench","email":"admin@bench.example","password":"%s"}' "$admin_password" >"$secrets/admin-login.json"
api POST /v1/auth/login "$secrets/admin-login.json" >"$secrets/admin-login.out"
printf 'Authorization: Bearer %s\n' "$(json_field access_token <"$secrets/admin-login.out")" >"$secrets/admin-auth.header"
printf '{"email":"client@bench.example","password":"%s","display_name":"Bench Client","role":"client"}' \
  "$client_password" >"$secrets/user.json"
api POST /v1/users "$secrets/user.json" "$secrets/admin-auth.header" >/dev/null
printf '{"practice":"bench","email":"client@bench.example","password":"%s"}' "$client_password" \
  >"$secrets/client-login.json"
api POST /v1/auth/login "$secrets/client-login.json" >"$secrets/client-login.out"
json_field access_token <"$secrets/client-login.out" >"$secrets/token"
[[ -s "$secrets/token" ]] || die "login returned no access_token"
log "practice 'bench' with an admin and a client user created; client logged in"
[[ "${BENCH_CALLGRIND:-0}" == 1 ]] && { callgrind_round; exit 0; }
[[ "${BENCH_SYSCALLS:-0}" == 1 ]] && { syscalls_round; exit 0; }


# --- a) HTTPS: peak (closed loop), then half of peak (open loop) --------------------
# CPU per request: the gateway's and identity's CPU time over the measured seconds (the
# 1 s warm-up left out) divided by the requests answered in them.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$1/stat"; }
sys_s() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", $15 / hz }' "/proc/$1/stat"; }  # the kernel's part
http_run() {  # NAME [loadgen args...]: runs the load, writes $state/http-NAME.out (+ .cpu)
  local name="$1" lg gw0 id0 load
  shift
  "$loadgen" "${http_args[@]}" "$@" >"$state/http-$name.out" &
  lg=$!
  bench_pids+=("$lg")
  sleep 1  # the warm-up
  gw0="$(cpu_s "$gateway_pid")" gs0="$(sys_s "$gateway_pid")" id0="$(cpu_s "$identity_pid")"
  wait "$lg" || true
  bench_pids=()
  load="$(cut -d' ' -f1 /proc/loadavg)"
  cat "$state/http-$name.out" >&2
  printf 'gateway_cpu_s=%s gateway_sys_s=%s identity_cpu_s=%s load=%s\n' \
    "$(awk -v a="$(cpu_s "$gateway_pid")" -v b="$gw0" 'BEGIN { print a - b }')" \
    "$(awk -v a="$(sys_s "$gateway_pid")" -v b="$gs0" 'BEGIN { print a - b }')" \
    "$(awk -v a="$(cpu_s "$identity_pid")" -v b="$id0" 'BEGIN { print a - b }')" "$load" >"$state/http-$name.cpu"
}
http_args=(http --url "$gateway" --ca "$ca" --token-file "$secrets/token" --path /v1/me
           --connections "$http_connections" --threads "$threads" --duration "$http_seconds" --warmup 1)
log "HTTPS closed loop, gateway threads=$gateway_threads, identity threads=$identity_threads: $http_connections connections, ${http_seconds} s"
http_run peak
peak_rps="$(result_field rps <"$state/http-peak.out")"
[[ -n "$peak_rps" && "$peak_rps" -gt 0 ]] || die "closed-loop run produced no throughput"
half_rate="${BENCH_HALF_RATE:-$(( peak_rps / 2 ))}"
log "HTTPS open loop at $half_rate req/s (half of peak)"
http_run half --rate "$half_rate"
gateway_alive || die "the gateway died or stopped answering /readyz during the HTTPS runs"
}

# BENCH_CALLGRIND=1: the gateway's user-space instructions per `GET /v1/me` instead of the
# runs below, a figure the machine's load does not move. The gateway is restarted on one
# thread under callgrind; two instrumented closed-loop runs of different lengths follow a
# warm-up, and the difference of their instructions over the difference of their requests
# leaves the handshakes and anything per run out. The profile of the longer run is kept
# (callgrind_annotate) with the state directory.
callgrind_round() {
  local process="${BENCH_CALLGRIND_PROCESS:-gateway}" pid args part ok ir load
  [[ $process == gateway || $process == identity ]] || die "BENCH_CALLGRIND_PROCESS: gateway or identity"
  # Ready when a request goes through (the gateway reconnects to a restarted identity).
  restart_under_callgrind "$process" me_answers
  pid="$(cat "$state/$process.pid")"
  # At a fixed rate (open loop) both runs cost the same per second as per request, so
  # what the gateway does on timers and when idle drops out of the difference as well.
  args=(http --url "$gateway" --ca "$ca" --token-file "$secrets/token" --path /v1/me
        --connections "${BENCH_HTTP_CONNECTIONS:-4}" --threads 1 --warmup 0 --rate "${BENCH_CALLGRIND_RATE:-250}")
  "$loadgen" "${args[@]}" --duration 3 >/dev/null  # token cache, RPC connections, allocator
  callgrind_control -i on "$pid" >/dev/null 2>&1
  for part in 1 2; do
    "$loadgen" "${args[@]}" --duration $(( part * 4 )) >"$state/callgrind-run-$part.out"
    callgrind_control -d "$pid" >/dev/null 2>&1
  done
  callgrind_control -i off "$pid" >/dev/null 2>&1
  load="$(cut -d' ' -f1 /proc/loadavg)"
  for part in 1 2; do
    ok[part]="$(result_field ok <"$state/callgrind-run-$part.out")"
    ir[part]="$(sed -n 's/^totals: \([0-9]*\).*/\1/p' "$state/callgrind.out.$part")"
  done
  (( ok[2] > ok[1] )) || die "the longer callgrind run answered no more requests than the shorter"
  printf 'callgrind, %s on 1 thread, GET /v1/me: runs of %s and %s requests, %s and %s instructions\n' \
    "$process" "${ok[1]}" "${ok[2]}" "${ir[1]}" "${ir[2]}"
  awk -v p="$process" -v a="${ir[1]}" -v b="${ir[2]}" -v n="${ok[1]}" -v m="${ok[2]}" -v l="$load" \
    'BEGIN { printf "RESULT %s_instructions_per_request=%.0f load=%s\n", p, (b - a) / (m - n), l }'
  callgrind_annotate "$state/callgrind.out.2" >"$state/callgrind-top.txt" 2>/dev/null || true
  BENCH_KEEP_STATE=1
  log "profile of the longer run: $state/callgrind.out.2 (top functions: $state/callgrind-top.txt)"
}

# BENCH_SYSCALLS=1: the gateway's system calls per `GET /v1/me` (the kernel's part of its CPU
# comes from them: loopback TCP sends and receives, epoll, timers, wake-ups), counted with
# perf's syscall tracepoints over a closed-loop run and an open-loop run at half of its rate.
# Like an instruction count, a count of calls does not move with the machine's load.
# Nanoseconds the process's threads have spent runnable, waiting for a CPU (schedstat's second field).
run_queue_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $2 } END { printf "%.0f", s }'; }
syscalls_round() {
  command -v perf >/dev/null || die "BENCH_SYSCALLS=1 needs perf (apt-get install linux-perf)"
  local calls=(recvfrom sendto read write readv writev recvmsg sendmsg epoll_wait epoll_ctl
               timerfd_settime futex getpid) events="" c name rate args out
  for c in "${calls[@]}"; do events+="syscalls:sys_enter_$c,"; done
  events+="raw_syscalls:sys_enter"
  args=(http --url "$gateway" --ca "$ca" --token-file "$secrets/token" --path /v1/me
        --connections "$http_connections" --threads "$threads" --warmup 0)
  "$loadgen" "${args[@]}" --duration 2 >/dev/null  # token cache, RPC connections, allocator
  for name in peak half; do
    rate=()
    [[ "$name" == half ]] && rate=(--rate "$half_rate")
    curl -sf --cacert "$ca" "https://127.0.0.1:$metrics_port/metrics" >"$state/metrics-$name-0.txt"
    local gw_wait0 id_wait0 gw_wait1 id_wait1
    gw_wait0="$(run_queue_ns "$gateway_pid")" id_wait0="$(run_queue_ns "$identity_pid")"
    perf stat -x, -e "$events" -p "$gateway_pid" -o "$state/syscalls-$name.csv" &
    local perf_pid=$!
    sleep 0.2
    "$loadgen" "${args[@]}" "${rate[@]}" --duration "$http_seconds" >"$state/syscalls-$name.out" &
    local lg=$! lg_wait
    bench_pids+=("$lg")
    sleep $(( http_seconds - 1 ))
    lg_wait="$(run_queue_ns "$lg")"  # over its first http_seconds - 1 seconds
    wait "$lg" || true
    bench_pids=()
    kill -INT "$perf_pid"
    wait "$perf_pid" || true
    curl -sf --cacert "$ca" "https://127.0.0.1:$metrics_port/metrics" >"$state/metrics-$name-1.txt"
    gw_wait1="$(run_queue_ns "$gateway_pid")" id_wait1="$(run_queue_ns "$identity_pid")"
    local ok load
    ok="$(result_field ok <"$state/syscalls-$name.out")"
    load="$(cut -d' ' -f1 /proc/loadavg)"
    [[ "$name" == peak ]] && half_rate="${BENCH_HALF_RATE:-$(( $(result_field rps <"$state/syscalls-$name.out") / 2 ))}"
    (( ok > 0 )) || die "the $name run answered no requests"
    printf 'syscalls per request, gateway threads %s, %s (%s requests, %s req/s, 1-min load %s):\n' \
      "$gateway_threads" "$name" "$ok" "$(result_field rps <"$state/syscalls-$name.out")" "$load"
    awk -F, -v n="$ok" '$3 ~ /sys_enter/ && $1 + 0 > 0 {
        sub(/^syscalls:sys_enter_/, "", $3); sub(/^raw_syscalls:sys_enter$/, "all", $3)
        printf "  %-16s %6.2f\n", $3, $1 / n }' "$state/syscalls-$name.csv"
    # Where the time of a request goes: the gateway's own histograms (from the request read
    # to the answer ready, and the RPC to identity inside it) against the latency the
    # client saw, to tell a tail made in the gateway from one made around it.
    printf '  latency seen by the client: p50 %s us, p99 %s us, max %s us\n' \
      "$(result_field p50_us <"$state/syscalls-$name.out")" "$(result_field p99_us <"$state/syscalls-$name.out")" \
      "$(result_field max_us <"$state/syscalls-$name.out")"
    awk -v g="$(( gw_wait1 - gw_wait0 ))" -v i="$(( id_wait1 - id_wait0 ))" -v l="$lg_wait" \
        -v t="$http_seconds" 'BEGIN {
      printf "  runnable but waiting for a CPU (run queue), ms per second: gateway %.0f, identity %.0f, load generator %.0f\n",
        g / t / 1e6, i / t / 1e6, l / (t - 1) / 1e6 }'
    local series
    for series in 'alliance_http_request_duration_seconds_bucket{route="/v1/me"' \
                  'alliance_rpc_duration_seconds_bucket{service="identity",method="alliance.identity.v1.Identity/GetMe"'; do
      awk -v s="$series" 'index($0, s) == 1 {
          le = $0; sub(/.*le="/, "", le); sub(/".*/, "", le)
          if (FILENAME ~ /-0.txt$/) a[le] = $NF; else { b[le] = $NF; order[++n] = le } }
        END { total = b["+Inf"] - a["+Inf"]; if (total <= 0) exit
          line = ""
          for (i = 1; i <= n; i++) if (order[i] == "0.001" || order[i] == "0.002" || order[i] == "0.005" || order[i] == "0.01")
            line = line sprintf(" over %g ms %.3f%%,", order[i] * 1000, 100 * (total - (b[order[i]] - a[order[i]])) / total)
          printf "  %s: %d requests,%s\n", (s ~ /rpc/ ? "the RPC to identity, in the gateway" : "in the gateway"), total, line }' \
        "$state/metrics-$name-0.txt" "$state/metrics-$name-1.txt"
    done
  done
}

results="$(mktemp -d /tmp/alliance-bench-gateway.XXXXXX)"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
rounds=()
for t in $gateway_thread_counts; do for u in $identity_thread_counts; do rounds+=("$t-$u"); done; done
for r in "${rounds[@]}"; do
  if [[ -n "${state:-}" ]]; then  # the previous round's system
    "$root/scripts/run" stop >/dev/null 2>&1 || true
    [[ "${BENCH_KEEP_STATE:-0}" == 1 ]] || rm -rf "$state"
  fi
  https_round "${r%-*}" "${r#*-}"
  for f in peak half; do cp "$state/http-$f.out" "$state/http-$f.cpu" "$results/"; rename_to="$results/$r-$f"
    mv "$results/http-$f.out" "$rename_to.out"; mv "$results/http-$f.cpu" "$rename_to.cpu"; done
done

# --- b) WSS: resident memory per idle authenticated WebSocket -----------------------
rss_before="$(rss_kib)"
gateway_nofile="$(awk '/^Max open files/ {print $4}' "/proc/$gateway_pid/limits")"
log "WSS: opening $ws_connections idle connections (gateway VmRSS before: $rss_before KiB)"
rm -f "$state/ws.ready"
"$loadgen" ws --url "$gateway" --ca "$ca" --token-file "$secrets/token" --connections "$ws_connections" \
  --threads "$threads" --hold 15 --source-ips 127.0.0.1-127.0.0.20 --connect-budget 180 \
  --ready-file "$state/ws.ready" >"$state/ws.out" 2>&1 &
loadgen_pid=$!
bench_pids+=("$loadgen_pid")
deadline=$(( SECONDS + 200 ))
while [[ ! -s "$state/ws.ready" ]] && kill -0 "$loadgen_pid" 2>/dev/null && (( SECONDS < deadline )); do sleep 0.2; done
[[ -s "$state/ws.ready" ]] || { cat "$state/ws.out" >&2; die "the WebSocket connect phase did not finish"; }
sleep 2  # let the last sessions' first writes settle
rss_held="$(rss_kib)"
gateway_connections="$(ss -Htn state established "( sport = :$gateway_port )" | wc -l)"
wait "$loadgen_pid" || true
bench_pids=()
cat "$state/ws.out" >&2
sleep 2
gateway_alive || die "the gateway died or stopped answering /readyz after the WebSocket run"
rss_after_close="$(rss_kib)"
ws_ready="$(result_field ready <"$state/ws.out")"
ws_failed="$(result_field failed <"$state/ws.out")"
ws_closed_early="$(result_field closed_early <"$state/ws.out")"
ws_rate="$(result_field rate <"$state/ws.out")"
ws_connect_s="$(result_field connect_s <"$state/ws.out")"
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

# --- summary ------------------------------------------------------------------------
ms() { awk -v us="$1" 'BEGIN { printf "%.2f ms", us / 1000 }'; }
peak_line() { local f="$1"
  printf 'p50 %s  p90 %s  p99 %s  max %s  (%s ok, %s non-200, %s transport errors)' \
    "$(ms "$(result_field p50_us <"$f")")" "$(ms "$(result_field p90_us <"$f")")" \
    "$(ms "$(result_field p99_us <"$f")")" "$(ms "$(result_field max_us <"$f")")" \
    "$(result_field ok <"$f")" "$(result_field non200 <"$f")" "$(result_field transport_errors <"$f")"; }
per_conn_kib="$(awk -v a="$rss_held" -v b="$rss_before" -v n="${ws_ready:-0}" \
  'BEGIN { if (n > 0) printf "%.1f", (a - b) / n; else print "n/a" }')"
cpu_field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" "$2"; }
us_per_request() {  # CPU_SECONDS RESULT_FILE
  awk -v s="$1" -v n="$(result_field ok <"$2")" 'BEGIN { if (n > 0) printf "%.1f us", s * 1e6 / n; else print "n/a" }'; }
https_summary() {
  local t="$1" p="$results/$1-peak" h="$results/$1-half" half_p99
  half_p99="$(result_field p99_us <"$h.out")"
  cat <<ROUND
 gateway threads = ${t%-*}, identity threads = ${t#*-}
  peak (closed loop):       $(result_field rps <"$p.out") req/s (1-min load $(cpu_field load "$p.cpu"))
                            $(peak_line "$p.out")
                            CPU per request: gateway $(us_per_request "$(cpu_field gateway_cpu_s "$p.cpu")" "$p.out") (kernel $(us_per_request "$(cpu_field gateway_sys_s "$p.cpu")" "$p.out")), identity $(us_per_request "$(cpu_field identity_cpu_s "$p.cpu")" "$p.out")
  half of peak (open loop): $(( $(result_field rps <"$p.out") / 2 )) req/s offered, $(result_field rps <"$h.out") req/s answered, latency from intended send time (1-min load $(cpu_field load "$h.cpu"))
                            $(peak_line "$h.out")
                            CPU per request: gateway $(us_per_request "$(cpu_field gateway_cpu_s "$h.cpu")" "$h.out") (kernel $(us_per_request "$(cpu_field gateway_sys_s "$h.cpu")" "$h.out")), identity $(us_per_request "$(cpu_field identity_cpu_s "$h.cpu")" "$h.out")
  target p99 <= 2 ms at half of peak: $(verdict "${half_p99:-}" 2000 "$(cpu_field load "$h.cpu")") ($(ms "${half_p99:-0}"))
ROUND
}
mem_total="$(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
model="$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
commit="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
git -C "$root" diff --quiet HEAD -- services libs 2>/dev/null || commit="$commit (+ uncommitted changes in services/ or libs/)"

cat <<SUMMARY

================ Alliance gateway benchmark ================
machine:     $(nproc) CPUs ($model), $mem_total RAM, Linux $(uname -r)
load avg:    $load_before before, $load_after after (1/5/15 min; anything above ~0.5 means other work shared the CPUs)
build:       $build (CMAKE_BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build/CMakeCache.txt")), commit $commit
conditions:  everything on loopback; one gateway process, identity, redis and the load generator
             ($threads thread(s)) share the same CPUs (scheduling runs idle); TLS 1.3, one user's token;
             one fresh system per pair of gateway and identity thread counts, back to back

HTTPS GET /v1/me (gateway verifies the token, one RPC to identity, JSON back),
$http_connections keep-alive connections, ${http_seconds} s measured after 1 s warm-up;
CPU per request = the process's CPU time over the measured seconds / requests answered:
$(for r in "${rounds[@]}"; do https_summary "$r"; done)
WSS idle authenticated connections ($ws_connections requested, 20 source addresses):
  ready ${ws_ready:-0}, failed ${ws_failed:-?}, closed early during the hold ${ws_closed_early:-?}; connect phase ${ws_connect_s:-?} s (${ws_rate:-?}/s)
  gateway open-files limit $gateway_nofile; established gateway connections while held: $gateway_connections
  gateway VmRSS: before $rss_before KiB, holding $rss_held KiB, 2 s after all closed $rss_after_close KiB
  per connection: $per_conn_kib KiB  (target <= 6 KiB at 50k: $(verdict "$per_conn_kib" 6 "${load_after%% *}"))
=============================================================
SUMMARY
rm -rf "$results"
