# Shared by the bench scripts (source it): logging, free ports, and a private
# Alliance system (redis, identity, messaging, scheduling, reminders, gateway) started with
# scripts/run in a temporary state folder and stopped on exit. A script changes a
# service's settings for its run through the environment before start_system,
# e.g. ALLIANCE_MESSAGING_SEND_RATE_PER_MINUTE=0 (every config key can be).
# Expects $root to be set, and reads $bench_scrypt_log2_n if the script sets it. Sets
# gateway_port, metrics_port, identity_port, messaging_port, reminders_port, scheduling_port, redis_port,
# scrypt_log2_n, state, gateway (URL) and ca (CA file).

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

# A port nothing listens on or connects from now, below the ephemeral range so
# load generators' own sockets never take it. Sets $port (not called in a
# subshell, so the ports already picked are remembered and never handed out twice).
taken_ports=()
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$(( 20000 + RANDOM % 12000 ))
    [[ " ${taken_ports[*]} " == *" $p "* ]] && continue
    if ! ss -Htan "( sport = :$p )" | grep -q .; then taken_ports+=("$p"); port="$p"; return 0; fi
  done
  die "no free port found"
}

# Builds the benchmark tool(s) named and every service start_system runs, with
# scripts/build into $ALLIANCE_BUILD_DIR, unless BENCH_SKIP_BUILD=1.
build_for_bench() {
  [[ "${BENCH_SKIP_BUILD:-0}" == 1 ]] && return 0
  log "building (scripts/build into $ALLIANCE_BUILD_DIR)"
  "$root/scripts/build" --target "$@" alliance-gateway alliance-identity alliance-scheduling alliance-messaging \
    alliance-reminders alliancectl >/dev/null
}

# Raises this shell's open-files limit to 20000 (or the hard limit, if lower): the
# gateway started from it and the benchmark's own sockets each hold one descriptor per
# socket. Dies if $1 sockets (plus room for everything else) would not fit.
raise_open_files() {
  local hard want=20000
  hard="$(ulimit -Hn)"
  [[ "$hard" != unlimited && "$hard" -lt "$want" ]] && want="$hard"
  ulimit -n "$want"
  (( $1 + 200 <= want )) || die "$1 sockets need more than the $want open files allowed"
}

# verdict VALUE MAX LOAD: whether VALUE is within the budget MAX, judged only when the
# phase ran with a 1-minute load (LOAD) below 1: a shared machine's figures are not.
verdict() {
  awk -v v="${1:-}" -v max="$2" -v load="${3:-9}" 'BEGIN {
    if (v == "" || v < 0) { print "not measured"; exit }
    r = (v + 0 <= max + 0) ? "meets" : "misses"
    if (load + 0 >= 1) print "NOT JUDGED (load " load "; would " (r == "meets" ? "meet" : "miss") ")"
    else print (r == "meets") ? "meets" : "MISSES" }'
}

# Background helpers a script starts (load generators, samplers): stopped on exit.
bench_pids=()

bench_cleanup() {
  local rc=$? pid
  for pid in "${bench_pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null && { wait "$pid" 2>/dev/null || true; }  # its exit status is the signal
  done
  "$root/scripts/run" stop >/dev/null 2>&1 || true
  if [[ "${BENCH_KEEP_STATE:-0}" == 1 || $rc -ne 0 ]]; then
    log "state and logs kept in $state"
  else
    rm -rf "$state"
  fi
}

start_system() {
  free_port; gateway_port="$port"
  free_port; metrics_port="$port"
  free_port; identity_port="$port"
  free_port; messaging_port="$port"
  free_port; scheduling_port="$port"
  free_port; reminders_port="$port"
  free_port; redis_port="$port"
  export ALLIANCE_GATEWAY_PORT="$gateway_port" ALLIANCE_METRICS_PORT="$metrics_port" ALLIANCE_IDENTITY_PORT="$identity_port" \
    ALLIANCE_MESSAGING_PORT="$messaging_port" ALLIANCE_SCHEDULING_PORT="$scheduling_port" \
    ALLIANCE_REMINDERS_PORT="$reminders_port" \
    ALLIANCE_REDIS_PORT="$redis_port"
  # Identity's password hashing cost for this private system, where only the set-up hashes
  # passwords and nothing measured does: BENCH_SCRYPT_LOG2_N, else the script's
  # bench_scrypt_log2_n, else 10. Below the production floor of 15 that takes identity's
  # test-only key, which identity warns about in its log.
  scrypt_log2_n="${BENCH_SCRYPT_LOG2_N:-${bench_scrypt_log2_n:-10}}"
  if (( scrypt_log2_n < 15 )); then
    export ALLIANCE_IDENTITY_INSECURE_SCRYPT_LOG2_N_FOR_TESTS="$scrypt_log2_n"
  else
    export ALLIANCE_IDENTITY_SCRYPT_LOG2_N="$scrypt_log2_n"
  fi
  state="$(mktemp -d /tmp/alliance-bench.XXXXXX)"
  export ALLIANCE_RUN_DIR="$state"
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM

  log "starting redis, identity, messaging, scheduling, reminders and gateway (state $state; gateway port $gateway_port)"
  "$root/scripts/run" start >"$state/run.out" 2>&1 || { tail -n 30 "$state/run.out" >&2; die "scripts/run start failed"; }
  # A port collision with someone else's server would let scripts/run talk to the
  # wrong process: insist that the processes it started are the ones alive.
  local run_status s
  run_status="$("$root/scripts/run" status)"
  for s in redis identity messaging scheduling reminders gateway; do
    grep -q "^$s: running" <<<"$run_status" || { echo "$run_status" >&2; die "$s is not running"; }
  done
  gateway="https://127.0.0.1:$gateway_port"
  ca="$state/certs/ca.pem"
}

# Restarts the private system's $1 (gateway or identity) on one I/O thread under callgrind,
# instruction counting off (turn it on around what is measured: callgrind_control -i on/off,
# -z, -d). Profiles go to $callgrind_out.N (default $state/callgrind.out.N); its pid to $state/$1.pid (and gateway_pid).
# Ready when the rest of the arguments, run as a command, succeed (within 120 s).
restart_under_callgrind() {
  local process=$1 pid
  shift
  command -v valgrind >/dev/null || die "BENCH_CALLGRIND=1 needs valgrind (apt-get install valgrind)"
  pid="$(cat "$state/$process.pid")"
  kill -TERM "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  ALLIANCE_GATEWAY_THREADS=1 ALLIANCE_IDENTITY_THREADS=1 valgrind --tool=callgrind --instr-atstart=no \
    --callgrind-out-file="${callgrind_out:-$state/callgrind.out}" "$ALLIANCE_BUILD_DIR/services/$process/alliance-$process" \
    --config "$state/$process.conf" >>"$state/logs/$process-callgrind.log" 2>&1 &
  pid=$!
  echo "$pid" >"$state/$process.pid"
  [[ $process == gateway ]] && gateway_pid=$pid
  local deadline=$(( SECONDS + 120 ))
  until kill -0 "$pid" 2>/dev/null && "$@"; do
    (( SECONDS < deadline )) || die "the $process under callgrind did not get ready"
    sleep 0.5
  done
}
