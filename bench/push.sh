#!/usr/bin/env bash
# Push fan-out benchmark: 10,000 authenticated WebSockets on a real gateway (real
# identity, Redis and TLS), pushes published on Redis the way the services publish
# them, and the gateway's CPU per delivered message as the headline figure.
# alliance-push-bench (bench/push/) creates the users through the public API, holds
# the sockets on one thread, publishes with alliance::redis::publish_push and prints:
#   idle       gateway VmRSS per idle authenticated socket (and the machine's MemAvailable)
#   fan-out    BENCH_PUSHES pushes, closed loop: delivered msg/s, gateway CPU per message
#   rate       BENCH_RATE pushes/s for BENCH_RATE_SECONDS: publish -> socket p50/p99,
#              gateway CPU per message
# with the 1-minute load next to each. Starts its own system (scripts/run via
# bench/lib.sh) in a temporary state directory on free loopback ports and stops it.
#
#   bench/push.sh                 # 3-5 minutes, most of it signing 10k users in
#   bench/push.sh --compare       # then the same phases against the Node peer
#                                 # (bench/peers/push-node), printed side by side
#
# Knobs (environment):
#   ALLIANCE_BUILD_DIR        build folder (default: build/)
#   BENCH_SOCKETS             sockets (10000)
#   BENCH_SOCKETS_PER_USER    sockets per user (1): each push reaches that many sockets
#   BENCH_PUSHES              fan-out phase pushes (200000; 0 skips it)
#   BENCH_WINDOW              fan-out: pushes published and not yet received (2000)
#   BENCH_ROUNDS              fan-out rounds; the one with the least gateway CPU per message counts (3)
#   BENCH_RATE                fixed-rate phase, pushes per second (5000; 0 skips it)
#   BENCH_RATE_SECONDS        (10)
#   BENCH_SCRYPT_LOG2_N       identity's password hashing cost for this private system (10)
#   BENCH_SKIP_BUILD=1        use the binaries in the build folder as they are
#   BENCH_KEEP_STATE=1        keep the temporary state directory (logs) afterwards
#   BENCH_PEER=node           the same as --compare
#   BENCH_SSL_FLOOR=0         skip alliance-ssl-floor (OpenSSL's heap per idle connection, kernel TLS)
#   BENCH_CALLGRIND=1         the gateway (one thread) under callgrind: its user-space instructions per
#                             delivered message in each fan-out round, a figure the machine's load does
#                             not move (use it for A/B); profiles kept in the state directory. Try it with
#                             BENCH_SOCKETS=1000 BENCH_PUSHES=20000 BENCH_ROUNDS=2 BENCH_RATE=0
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export ALLIANCE_BUILD_DIR="${ALLIANCE_BUILD_DIR:-$root/build}"
build="$ALLIANCE_BUILD_DIR"
sockets="${BENCH_SOCKETS:-10000}"
per_user="${BENCH_SOCKETS_PER_USER:-1}"
bench="$build/bench/push/alliance-push-bench"
peer="${BENCH_PEER:-}"
for a in "$@"; do
  case "$a" in
    --compare) peer=node ;;
    *) echo "usage: bench/push.sh [--compare]   (knobs: see the top of this file)" >&2; exit 2 ;;
  esac
done
[[ -z "$peer" || "$peer" == node ]] || { echo "BENCH_PEER: only \"node\" is known" >&2; exit 2; }
peer_dir="$root/bench/peers/push-node"

# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"

build_for_bench alliance-push-bench alliance-ssl-floor
if [[ -n "$peer" ]]; then
  command -v node >/dev/null || die "--compare needs node (scripts/install-deps installs it)"
  # The peer's pinned packages (its package-lock.json), when missing or older than the lock.
  if [[ ! -f "$peer_dir/node_modules/.package-lock.json" || "$peer_dir/package-lock.json" -nt \
        "$peer_dir/node_modules/.package-lock.json" ]]; then
    log "installing the Node peer's packages (npm ci in bench/peers/push-node)"
    (cd "$peer_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
fi

raise_open_files "$sockets"

# One sign-in per user opens all of that user's sockets: lift the caps to fit.
if (( per_user > 5 )); then
  export ALLIANCE_GATEWAY_WS_MAX_PER_SESSION="$per_user" ALLIANCE_GATEWAY_WS_MAX_PER_USER="$per_user"
fi
start_system
gateway_pid="$(cat "$state/gateway.pid")"
phase_args=()
if [[ "${BENCH_CALLGRIND:-0}" == 1 ]]; then
  [[ -z "$peer" ]] || die "BENCH_CALLGRIND=1 measures the gateway only: drop --compare"
  restart_under_callgrind gateway curl -sf --cacert "$ca" "$gateway/readyz" -o /dev/null
  BENCH_KEEP_STATE=1
  # Counts only the fan-out rounds: counters zeroed and on at a round's start, dumped at its end.
  phase_args=(--phase-command "$root/bench/push/callgrind_phase.sh $gateway_pid $state")
fi
redis_pid="$(cat "$state/redis.pid")"
peer_args=()
if [[ -n "$peer" ]]; then
  # The peer connects to Redis as the gateway does (its ACL user, certificate and CA) and
  # checks the tokens identity signs (the public half of identity's signing key).
  c="$state/certs"
  node "$peer_dir/server.js" --port 0 --cert "$c/gateway-public.pem" --key "$c/gateway-public.key" \
    --token-key "$c/token-signing.pem" --redis "127.0.0.1:$redis_port" --redis-user gateway \
    --redis-password-file "$c/redis-gateway.password" --redis-ca "$c/ca.pem" --redis-cert "$c/gateway.pem" \
    --redis-key "$c/gateway.key" >"$state/peer.out" 2>"$state/logs/peer.log" &
  peer_pid=$!
  bench_pids+=("$peer_pid")
  for _ in $(seq 1 100); do grep -q "listening on" "$state/peer.out" 2>/dev/null && break; sleep 0.1; done
  peer_port="$(sed -n 's/^push-node listening on \([0-9]*\)$/\1/p' "$state/peer.out")"
  [[ -n "$peer_port" ]] || { cat "$state/logs/peer.log" >&2; die "the Node peer did not start"; }
  log "Node peer $(node --version) listening on $peer_port (pid $peer_pid)"
  peer_args=(--peer-url "https://127.0.0.1:$peer_port" --peer-pid "$peer_pid" --peer-name node)
fi
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"

log "running alliance-push-bench ($sockets sockets, $per_user per user)"
bench_rc=0
timeout 900 "$bench" --url "$gateway" --ca "$ca" --operator-token-file "$state/certs/operator.token" \
  --redis "127.0.0.1:$redis_port" --redis-password-file "$state/certs/redis-messaging.password" \
  --redis-ca "$state/certs/ca.pem" --redis-cert "$state/certs/messaging.pem" --redis-key "$state/certs/messaging.key" \
  --gateway-pid "$gateway_pid" --redis-pid "$redis_pid" --sockets "$sockets" --sockets-per-user "$per_user" \
  --pushes "${BENCH_PUSHES:-200000}" --window "${BENCH_WINDOW:-2000}" --rounds "${BENCH_ROUNDS:-3}" \
  --rate "${BENCH_RATE:-5000}" \
  --rate-seconds "${BENCH_RATE_SECONDS:-10}" "${peer_args[@]}" "${phase_args[@]}" >"$state/bench.out" || bench_rc=$?
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
# The floor under the memory per idle socket: OpenSSL's own state per connection, measured
# with the gateway's context and certificate (and whether kernel TLS could take it over).
floor_out="not measured (BENCH_SSL_FLOOR=0)"
if [[ "${BENCH_SSL_FLOOR:-1}" != 0 ]]; then
  floor_out="$("$build/bench/push/alliance-ssl-floor" --cert "$state/certs/gateway-public.pem" \
    --key "$state/certs/gateway-public.key" --connections 1000 2>&1 || true)"
fi
kill -0 "$gateway_pid" 2>/dev/null || { log "the gateway died during the run"; bench_rc=1; }
[[ -z "$peer" ]] || kill -0 "$peer_pid" 2>/dev/null || { log "the Node peer died during the run"; bench_rc=1; }

commit="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
git -C "$root" diff --quiet HEAD -- services libs 2>/dev/null ||
  commit="$commit (+ uncommitted changes in services/ or libs/)"
mem_total="$(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
model="$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
result="$(grep '^RESULT ' "$state/bench.out" || true)"
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$result"; }

cat <<SUMMARY

================ Alliance push fan-out benchmark ================
machine:     $(nproc) CPUs ($model), $mem_total RAM, Linux $(uname -r)
load avg:    $load_before before, $load_after after (1/5/15 min)
build:       $build (CMAKE_BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build/CMakeCache.txt")), commit $commit
conditions:  everything on loopback; one gateway, redis, identity (idle after the set-up)
             and the benchmark (one socket thread, one publishing thread) share the same CPUs; TLS 1.3
$( [[ -z "$peer" ]] || echo "peer:        Node $(node --version) https + ws + ioredis (bench/peers/push-node), measured after the gateway" )

$(cat "$state/bench.out")

$floor_out

budgets (DESIGN.md / issue 11, 2 cores), judged only with a 1-minute load below 1:
  gateway CPU per delivered message <= 5 us:   $(verdict "$(field fanout_gateway_us)" 5 "$(field fanout_load)")
  p99 publish -> socket <= 2 ms at ${BENCH_RATE:-5000}/s:    $(verdict "$(field rate_p99_us)" 2000 "$(field rate_load)")
  idle authenticated WSS <= 6 KiB (gateway RSS): $(verdict "$(field rss_per_socket_kib)" 6 "0")
==================================================================
SUMMARY
[[ $bench_rc -eq 0 ]] || die "the benchmark failed (exit $bench_rc): see above"
