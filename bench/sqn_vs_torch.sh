#!/bin/sh
# sqn_vs_torch.sh: ms per training update of `spikebridge train sqn` (plain-Go
# BPTT) against the PyTorch reference ../shared/reference/sqn_torch.py, with
# identical settings (batch 64, 4-64-64-2 plus the bias input, Double DQN,
# MSE, gradient clamp 1, hard target sync 500, constant lr, no keep-best),
# one thread each, one after the other in the same run.
#
# sqn_torch.py's --timesteps T computes the same network function as
# spikebridge's --timesteps T-2 (DSQN's first step only delays the input, its
# output misses the last step's spikes), so T=20 there is compared with 18
# here (the same Q-values); spikebridge at 20 simulated steps is shown too.
#
# usage: bench/sqn_vs_torch.sh [STEPS [SEED]]      (defaults 6000 1)
# It installs nothing. Needs go and /usr/bin/python3 with torch and numpy.
set -eu
steps=${1:-6000}
seed=${2:-1}
root=$(cd "$(dirname "$0")/.." && pwd)
ref=${SPIKEBRIDGE_REFERENCE:-$root/../shared/reference}
py=/usr/bin/python3

if [ ! -f "$ref/sqn_torch.py" ]; then
	echo "sqn_vs_torch: $ref/sqn_torch.py not found (set SPIKEBRIDGE_REFERENCE to the reference directory)" >&2
	exit 1
fi
if ! "$py" -c 'import torch, numpy' 2>/dev/null; then
	echo "sqn_vs_torch: $py lacks torch or numpy; install them with:" >&2
	echo "  apt-get update && apt-get install -y python3-torch python3-numpy" >&2
	exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$root" && go build -o "$tmp/spikebridge" ./cmd/spikebridge)

shared="--steps $steps --seed $seed --threads 1 --hidden 64,64 --lr 1e-3 --gamma 0.99 --buffer 50000 \
--batch 64 --target-sync 500 --eps-start 1.0 --eps-end 0.05 --eps-steps 10000 --warmup 1000 \
--eval-episodes 20 --keep-best-every 0"
gosettings="--loss mse --double --tau 0 --lr-final 1e-3 --grad-clip 1 --window 20 --checkpoint-every 0 --json"

for T in 18 20; do
	echo "spikebridge train sqn --timesteps $T (plain-Go BPTT, GOMAXPROCS=1) ..." >&2
	# shellcheck disable=SC2086
	GOMAXPROCS=1 "$tmp/spikebridge" train sqn $shared $gosettings --timesteps $T --out "$tmp/go$T" >"$tmp/go$T.json"
done

echo "sqn_torch.py --timesteps 20 (PyTorch, --threads 1) ..." >&2
# shellcheck disable=SC2086
"$py" "$ref/sqn_torch.py" $shared --timesteps 20 >"$tmp/torch.out"
grep '^RESULT ' "$tmp/torch.out" | sed 's/^RESULT //' >"$tmp/torch.json"

"$py" - "$tmp/go18.json" "$tmp/go20.json" "$tmp/torch.json" <<'PY'
import json, sys
g18, g20, th = (json.load(open(p)) for p in sys.argv[1:4])
print(f"steps {th['steps']}, seed {th['seed']}, batch 64, 4(+1)-64-64-2, identical settings, 1 thread each")
print(f"{'':34s} {'ms/update':>10s} {'env steps/s':>12s} {'eval mean':>10s}")
rows = (("spikebridge T=18 (= torch T=20)", g18), ("spikebridge T=20", g20), ("sqn_torch.py T=20", th))
for name, r in rows:
    print(f"{name:34s} {r['ms_per_update']:10.2f} {r['steps_per_s']:12.0f} {r['eval_mean']:10.1f}")
print(f"speed-up per update (same network function): {th['ms_per_update'] / g18['ms_per_update']:.2f}x")
print(f"speed-up per update (spikebridge at 20 simulated steps): {th['ms_per_update'] / g20['ms_per_update']:.2f}x")
PY
