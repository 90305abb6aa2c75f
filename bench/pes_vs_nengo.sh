#!/usr/bin/env bash
# pes_vs_nengo.sh: PES steps/s of spikebridge's channel network (learn/,
# 50 + 50 LIF, PES 1e-4, dt 1 ms: the PES fixture's model) against Nengo's
# reference simulator (nengo.Simulator, optimizer on, progress bar off) on the
# same network, one after the other in this one invocation; prints both and
# their ratio. It installs nothing: without an importable nengo it prints
# spikebridge's number alone and says so. (The Nengo half has not been run
# on the machine this was written on, which has no Nengo.)
#
# Environment: PYTHON (default /usr/bin/python3), STEPS (default 10000).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-/usr/bin/python3}
steps=${STEPS:-10000}

echo "load: $(uptime)"
ns=$(cd "$root" && go test ./learn -run '^$' -bench 'ChannelStep/neurons=50$' -benchtime "${steps}x" -count 3 |
	awk '/ns\/op/ { if (best == "" || $3 < best) best = $3 } END { print best }')
ours=$(awk -v ns="$ns" 'BEGIN { printf "%.0f", 1e9 / ns }')
echo "spikebridge: ${ours} PES steps/s (best of 3, ${ns} ns/step)"

if ! "$python" -c 'import nengo' >/dev/null 2>&1; then
	echo "pes_vs_nengo: nengo is not importable by $python; no ratio." >&2
	exit 0
fi
theirs=$("$python" - "$steps" <<'PY'
import sys, time
import numpy as np
import nengo
steps = int(sys.argv[1])
with nengo.Network(seed=10) as net:
    inp = nengo.Node(lambda t: np.sin(2 * np.pi * t))
    pre = nengo.Ensemble(50, 1)
    post = nengo.Ensemble(50, 1)
    nengo.Connection(inp, pre)
    conn = nengo.Connection(pre, post, function=lambda x: [0], learning_rule_type=nengo.PES(1e-4))
    error = nengo.Node(size_in=1)
    nengo.Connection(post, error)
    nengo.Connection(pre, error, transform=-1)
    nengo.Connection(error, conn.learning_rule)
best = None
for _ in range(3):
    with nengo.Simulator(net, seed=10, progress_bar=False) as sim:
        start = time.perf_counter()
        sim.run_steps(steps)
        wall = time.perf_counter() - start
    best = wall if best is None else min(best, wall)
print("%.0f" % (steps / best))
PY
)
echo "nengo $("$python" -c 'import nengo; print(nengo.__version__)'): ${theirs} PES steps/s (best of 3)"
awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "ratio: %.1fx\n", a / b }'
