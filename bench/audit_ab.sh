#!/usr/bin/env bash
# What auditing costs on the benchmarked write paths, as an A/B run back to back: the
# front desk's bookings and week calendar views (bench/scheduling.sh) and durable message sends
# (bench/messaging.sh), each with audit records on (as deployed) and then off, for
# BENCH_AB_ROUNDS rounds (on, off, on, off, ...), each run on a fresh private system.
# "Off" is the benchmark-only config key audit_off_for_benchmarks of scheduling and
# messaging (the services warn at start when it is set); identity then receives no
# AppendAudit batches from them. Prints every run's rate, p99 and the CPU it cost, the
# off/on ratio of the medians, and the 1-minute load with each figure.
#
#   bench/audit_ab.sh
#
# Knobs (environment):
#   BENCH_AB_ROUNDS        on/off pairs per path (2)
#   BENCH_AB_PATHS         which paths: "bookings sends" (default), or one of them
#   BENCH_BOOK_SECONDS     measured seconds of bookings per run (10)
#   BENCH_SECONDS          measured seconds of sends per run (5)
#   BENCH_SENDERS          concurrent senders (8)
#   ALLIANCE_BUILD_DIR     build folder (default: build/)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
rounds="${BENCH_AB_ROUNDS:-2}"
paths="${BENCH_AB_PATHS:-bookings sends}"
senders="${BENCH_SENDERS:-8}"
export BENCH_BOOK_SECONDS="${BENCH_BOOK_SECONDS:-10}" BENCH_SECONDS="${BENCH_SECONDS:-5}"
out="$(mktemp -d /tmp/alliance-audit-ab.XXXXXX)"
trap 'rm -rf "$out"' EXIT

log() { printf '[audit-ab] %s\n' "$*" >&2; }
load1() { cut -d' ' -f1 /proc/loadavg; }
field() { sed -n "s/.*\\b$2=\\([^ ]*\\).*/\\1/p" <<<"$(grep '^RESULT ' "$1" || true)"; }
# "NAME X s" of a summary's "CPU used during the run" line, or a bench phase's "NAME X s (Y us/msg)".
cpu_of() { grep -m1 "$2" "$1" | sed -n "s/.*\\b$3 \\([0-9.]*\\) s.*/\\1/p"; }
us_per_msg() { grep -m1 'CPU during the phase' "$1" | sed -n "s/.* $2 [0-9.]* s (\\([0-9]*\\) us\\/msg).*/\\1/p"; }

# run PATH MODE ROUND: one benchmark run; its output in $out/PATH-MODE-ROUND.
run() {
  local path=$1 mode=$2 round=$3 file="$out/$1-$2-$3" off=false
  [[ $mode == off ]] && off=true
  log "$path, audit $mode, round $round (load $(load1))"
  echo "load_before=$(load1)" >"$file.load"
  if [[ $path == bookings ]]; then
    ALLIANCE_SCHEDULING_AUDIT_OFF_FOR_BENCHMARKS=$off BENCH_SEARCH_SECONDS=1 BENCH_SEARCH_CONNECTIONS=2 \
      BENCH_RACE_ROUNDS=1 BENCH_RACERS=10 "$root/bench/scheduling.sh" >"$file" 2>"$file.err" \
      || { tail -n 20 "$file" "$file.err" >&2; log "bench/scheduling.sh failed"; exit 1; }
  else
    ALLIANCE_MESSAGING_AUDIT_OFF_FOR_BENCHMARKS=$off BENCH_SENDERS="$senders" BENCH_PUSH_SECONDS=1 \
      BENCH_PUSH_RATE=50 BENCH_PUSH_PAIRS=2 "$root/bench/messaging.sh" >"$file" 2>"$file.err" \
      || { tail -n 20 "$file" "$file.err" >&2; log "bench/messaging.sh failed"; exit 1; }
  fi
  echo "load_after=$(load1)" >>"$file.load"
}

for round in $(seq 1 "$rounds"); do
  for path in $paths; do
    for mode in on off; do run "$path" "$mode" "$round"; done
  done
done

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print ""; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
commit="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo
echo "================ Alliance audit write cost (A/B) ================"
echo "machine:  $(nproc) CPUs, commit $commit; each run a fresh private system (bench/lib.sh)"
echo "off:      audit_off_for_benchmarks=true on scheduling (bookings) or messaging (sends): no audit records"
for path in $paths; do
  echo
  if [[ $path == bookings ]]; then
    echo "bookings (front desk, bench/scheduling.sh, ${BENCH_BOOK_SECONDS} s measured per run, 8 threads):"
  else
    echo "sends (bench/messaging.sh accepted messages, N=$senders senders, ${BENCH_SECONDS} s measured per run):"
  fi
  for mode in on off; do
    for round in $(seq 1 "$rounds"); do
      f="$out/$path-$mode-$round"
      loads="$(paste -sd' ' "$f.load")"
      if [[ $path == bookings ]]; then
        rps="$(field "$f" book_rps)"; p99="$(field "$f" book_p99_ms)"
        cpu="scheduling $(cpu_of "$f" 'CPU used during the run' scheduling) s, identity $(cpu_of "$f" 'CPU used during the run' identity) s (whole run)"
      else
        rps="$(field "$f" "n${senders}_rps")"; p99="$(field "$f" "n${senders}_p99_ms")"
        cpu="messaging $(us_per_msg "$f" messaging) us/msg, identity $(us_per_msg "$f" identity) us/msg"
      fi
      echo "$rps" >>"$out/$path-$mode.rates"
      printf '  audit %-3s round %s: %6s/s  p99 %6s ms  CPU %s  (1-min load %s)\n' "$mode" "$round" "$rps" "$p99" \
        "$cpu" "${loads//load_/}"
      if [[ $path == bookings ]]; then
        views="$(field "$f" calendar_rps)"
        echo "$views" >>"$out/views-$mode.rates"
        printf '    calendar week views (one record per client shown): %6s/s  p99 %6s ms  CPU %s\n' "$views" \
          "$(field "$f" calendar_p99_ms)" "$(grep -m1 'per view' "$f" | sed 's/^ *CPU: //')"
      fi
    done
  done
  ratio() {
    awk -v on="$1" -v off="$2" -v what="$3" 'BEGIN {
      if (on + 0 > 0 && off + 0 > 0) printf "  %s: median on %s/s, off %s/s: audit on keeps %.0f%% of the rate without it (on/off %.2f)\n", what, on, off, 100 * on / off, on / off }'
  }
  ratio "$(median <"$out/$path-on.rates")" "$(median <"$out/$path-off.rates")" "$path"
  [[ $path == bookings ]] && ratio "$(median <"$out/views-on.rates")" "$(median <"$out/views-off.rates")" "calendar views"
done
echo "================================================================="
