#!/usr/bin/env bash
# alliance-push-bench's --phase-command in bench/push.sh's BENCH_CALLGRIND=1 mode: counts the
# gateway's instructions over each of its fan-out rounds and prints them per delivered message.
#   callgrind_phase.sh GATEWAY_PID STATE_DIR begin SERVER ROUND
#   callgrind_phase.sh GATEWAY_PID STATE_DIR end SERVER ROUND DELIVERED
set -euo pipefail
pid="$1" state="$2" step="$3" server="$4" round="$5"
[[ "$server" == gateway ]] || exit 0
if [[ "$step" == begin ]]; then
  callgrind_control -i on "$pid" >/dev/null 2>&1
  callgrind_control -z "$pid" >/dev/null 2>&1
  exit 0
fi
callgrind_control -d "fan-out round $round" "$pid" >/dev/null 2>&1
callgrind_control -i off "$pid" >/dev/null 2>&1
out="$(ls -t "$state"/callgrind.out.* | head -n 1)"
ir="$(sed -n 's/^totals: \([0-9]*\).*/\1/p' "$out")"
[[ -n "$ir" && "$6" -gt 0 ]] || { echo "callgrind_phase.sh: no totals in $out or nothing delivered" >&2; exit 1; }
awk -v ir="$ir" -v n="$6" -v r="$round" -v f="$out" 'BEGIN {
  printf "  callgrind, fan-out round %s: %.0f gateway instructions per delivered message (%s over %s; %s)\n",
    r, ir / n, ir, n, f }'
