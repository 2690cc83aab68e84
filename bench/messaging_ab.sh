#!/usr/bin/env bash
# Durable messages, A/B: bench/messaging.sh from two checkouts back to back
# (A B, B A, ...), each run on a fresh private system, then the accepted-rate line and
# the CPU per message of every run (the servers' and the benchmark client's own) with
# the 1-minute load before it. A is
# BENCH_AB_BASE (another checkout, e.g. a worktree at the commit to compare with);
# B is this checkout. Each checkout runs the binaries of its own build/ (built first:
# `scripts/build --target alliance-messaging-bench alliance-gateway alliance-identity
# alliance-scheduling alliance-messaging alliance-reminders alliancectl console`).
#
#   BENCH_AB_BASE=/work/other-checkout bench/messaging_ab.sh
#
# Or one checkout with two settings: BENCH_AB_A_ENV and BENCH_AB_B_ENV are VAR=value
# words exported for A's and B's runs (scripts/run passes ALLIANCE_* on to the services),
# and BENCH_AB_BASE defaults to this checkout when either is set:
#
#   BENCH_AB_A_ENV=ALLIANCE_RPC_OVER=tcp BENCH_AB_B_ENV=ALLIANCE_RPC_OVER=unix bench/messaging_ab.sh
#
# Rounds alternate the order (A B, B A, ...). Knobs: BENCH_AB_ROUNDS (2), and
# bench/messaging.sh's own; defaults here are the
# server-side profile: BENCH_SENDERS=64 BENCH_SEAL_AHEAD=700 BENCH_SECONDS=5
# BENCH_PUSH_SECONDS=2.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
a_env="${BENCH_AB_A_ENV:-}" b_env="${BENCH_AB_B_ENV:-}"
if [[ -n "$a_env$b_env" ]]; then
  base="${BENCH_AB_BASE:-$root}"
else
  base="${BENCH_AB_BASE:?set BENCH_AB_BASE to the checkout to compare with (or BENCH_AB_A_ENV / BENCH_AB_B_ENV)}"
fi
rounds="${BENCH_AB_ROUNDS:-2}"
export BENCH_SENDERS="${BENCH_SENDERS:-64}" BENCH_SEAL_AHEAD="${BENCH_SEAL_AHEAD:-700}"
export BENCH_SECONDS="${BENCH_SECONDS:-5}" BENCH_PUSH_SECONDS="${BENCH_PUSH_SECONDS:-2}" BENCH_SKIP_BUILD=1
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

run_one() {  # label tree env
  local label="$1" tree="$2" env_words="$3" load
  local -a env_args
  read -r -a env_args <<<"$env_words"
  load="$(cut -d' ' -f1 /proc/loadavg)"
  echo "[ab] $label ($(git -C "$tree" rev-parse --short HEAD)${env_words:+ $env_words}), 1-min load $load before" >&2
  env "${env_args[@]}" ALLIANCE_BUILD_DIR="$tree/build" "$tree/bench/messaging.sh" >"$out/run.txt" 2>"$out/err.txt" ||
    { tail -n 20 "$out/err.txt" "$out/run.txt" >&2; exit 1; }
  {
    echo "$label $(git -C "$tree" rev-parse --short HEAD)${env_words:+ $env_words}, 1-min load $load before, $(grep '^load avg' "$out/run.txt" | sed 's/^load avg: *//')"
    grep -E '^N=' "$out/run.txt" | sed 's/^/  /'
    grep -E '^  CPU during the phase' "$out/run.txt" | head -n 1
    grep -E '^  CPU per message' "$out/run.txt" | head -n 1 || true
    grep -E '^  written to storage' "$out/run.txt" | head -n 1 || true
  } >>"$out/summary.txt"
}

# A B, then B A, and so on: a machine that speeds up or slows down through the runs
# (the first run after an idle spell is often the slowest) favours neither side.
for ((i = 1; i <= rounds; i++)); do
  if ((i % 2)); then
    run_one A "$base" "$a_env"
    run_one B "$root" "$b_env"
  else
    run_one B "$root" "$b_env"
    run_one A "$base" "$a_env"
  fi
done
echo
echo "================ durable messages A/B (N=$BENCH_SENDERS, sealed ahead $BENCH_SEAL_AHEAD) ================"
cat "$out/summary.txt"
# us/msg per process: the median of the rounds, and B/A (plain awk, no gawk extensions).
awk '
  /^[AB] / { who = $1 }
  /^  N=[0-9]+ / {
    k = ++count[who, "rate"]; v[who, "rate", k] = $2 + 0
    for (i = 1; i < NF; i++) if ($i == "p99") { k = ++count[who, "p99"]; v[who, "p99", k] = $(i + 1) + 0 }
  }
  /CPU during the phase/ {
    line = $0
    sub(/.*messages\): /, "", line)
    n = split(line, parts, ";")
    for (i = 1; i <= n; i++) {
      split(parts[i], w, " ")
      us = w[4]
      sub(/\(/, "", us)
      k = ++count[who, w[1]]
      v[who, w[1], k] = us + 0
    }
  }
  function median(who, p,   k, i, j, t, a) {
    k = count[who, p]
    if (!k) return -1
    for (i = 1; i <= k; i++) a[i] = v[who, p, i]
    for (i = 2; i <= k; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return (k % 2) ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
  }
  END {
    printf "median rate %.0f -> %.0f msg/s, ack p99 %.2f -> %.2f ms\n", median("A", "rate"), median("B", "rate"), median("A", "p99"), median("B", "p99")
    print "median CPU per accepted message (us), A -> B:"
    np = split("gateway messaging redis identity bench", procs, " ")
    for (i = 1; i <= np; i++) {
      a = median("A", procs[i]); b = median("B", procs[i])
      if (a < 0 || b < 0) continue
      printf "  %-10s %7.1f -> %7.1f   B/A %.2f\n", procs[i], a, b, (a > 0) ? b / a : 0
      if (procs[i] != "bench" && procs[i] != "identity") { sa += a; sb += b }
    }
    printf "  %-10s %7.1f -> %7.1f   B/A %.2f\n", "gw+msg+redis", sa, sb, (sa > 0) ? sb / sa : 0
  }' "$out/summary.txt"
