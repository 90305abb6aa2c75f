#!/usr/bin/env bash
# snn_vs_brian2.sh: spikebridge's simulator against Brian2 (Cython target) on
# the `ff` benchmark of ../shared/reference/brian2_lif.py: 4-16-16-2 IF
# network, T = 100 steps, 1000 inputs, next-step (Brian2) order. Both run here,
# one after the other, in this one invocation; the script prints decisions/s
# of each and their ratio. It installs nothing.
#
# Environment: SPIKEBRIDGE_FIXTURES (default ../shared/fixtures beside the
# project root), BRIAN2_SCRIPT (default ../shared/reference/brian2_lif.py),
# PYTHON (default /usr/bin/python3), REPEATS (default 3).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
fixtures=${SPIKEBRIDGE_FIXTURES:-$root/../shared/fixtures}
brian2_script=${BRIAN2_SCRIPT:-$root/../shared/reference/brian2_lif.py}
python=${PYTHON:-/usr/bin/python3}
repeats=${REPEATS:-3}

if ! "$python" -c 'import brian2, numpy' >/dev/null 2>&1; then
	echo "snn_vs_brian2: brian2 is not importable by $python." >&2
	echo "Install it (Debian): apt-get update && apt-get install -y python3-brian python3-numpy" >&2
	exit 1
fi
if [ ! -f "$brian2_script" ]; then
	echo "snn_vs_brian2: $brian2_script not found (set BRIAN2_SCRIPT)" >&2
	exit 1
fi
fixture=$fixtures/snn/brian2_ff_seed1.npz
if [ ! -f "$fixture" ]; then
	echo "snn_vs_brian2: $fixture not found (set SPIKEBRIDGE_FIXTURES)" >&2
	exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$root" && go build -o "$tmp/snnff" ./bench/snnff)

echo "== spikebridge snn (Go), ff, next-step, T=100, 1000 inputs, one goroutine"
for precision in float64 float32; do
	GOMAXPROCS=1 "$tmp/snnff" -fixture "$fixture" -precision "$precision" -repeats 5 | tee -a "$tmp/ours.txt"
done

echo "== Brian2, Cython target: $python $brian2_script --bench ff --target cython --repeats $repeats"
(cd "$tmp" && "$python" -W ignore "$brian2_script" --bench ff --target cython --repeats "$repeats" 2>&1) |
	grep -v -i warning | tee "$tmp/brian2.txt"

"$python" - "$tmp/ours.txt" "$tmp/brian2.txt" <<'PY'
import json, sys

def results(path):
    return [json.loads(l.split("RESULT ", 1)[1]) for l in open(path) if l.startswith("RESULT ")]

ours = {r["precision"]: r for r in results(sys.argv[1])}
brian = results(sys.argv[2])
if not brian:
    sys.exit("snn_vs_brian2: Brian2 printed no RESULT line")
b = brian[-1]
b_run, b_total = b["decisions_per_s_run_median"], b["decisions_per_s_total_median"]
print()
print(f"Brian2 {b['brian2']} cython : {b_run:12,.0f} decisions/s (run only, median of {len(b['reps'])}), "
      f"{b_total:,.0f} incl. build and code generation")
for prec in ("float64", "float32"):
    o = ours[prec]
    d = o["decisions_per_s_median"]
    print(f"spikebridge snn {prec}: {d:12,.0f} decisions/s (wall, median of {o['repeats']}; "
          f"{o['cpu_us_per_decision_median']:.2f} us CPU per decision; {o.get('batch_kernel', '?')} kernel), "
          f"{o['match_brian2_decisions']}/{o['inputs']} decisions equal Brian2's fixture")
    print(f"  ratio {prec} / Brian2 run-only: {d / b_run:8.1f}x   (vs incl. build: {d / b_total:,.0f}x)")
PY
