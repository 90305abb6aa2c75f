#!/bin/sh
# dqn_vs_torch.sh: env steps/s of `spikebridge train dqn` against the PyTorch
# reference (../shared/reference/dqn_torch.py) with identical hyper-parameters
# (the reference's defaults: plain DQN, hard target sync, constant lr, no
# keep-best), one thread each, one after the other on this machine. It prints
# both programs' env steps/s (whole training loop) and µs per gradient update
# (learning time only), the two ratios, and the load average before, between
# and after the runs (the ratios mean little on a loaded machine).
#
# usage: bench/dqn_vs_torch.sh [STEPS [SEED]]      (defaults 50000 1)
# It installs nothing. Needs go and /usr/bin/python3 with torch and numpy.
set -eu
steps=${1:-50000}
seed=${2:-1}
root=$(cd "$(dirname "$0")/.." && pwd)
ref=${SPIKEBRIDGE_REFERENCE:-$root/../shared/reference}
py=/usr/bin/python3

if [ ! -f "$ref/dqn_torch.py" ]; then
	echo "dqn_vs_torch: $ref/dqn_torch.py not found (set SPIKEBRIDGE_REFERENCE to the reference directory)" >&2
	exit 1
fi
if ! "$py" -c 'import torch, numpy' 2>/dev/null; then
	echo "dqn_vs_torch: $py lacks torch or numpy; install them with:" >&2
	echo "  apt-get update && apt-get install -y python3-torch python3-numpy" >&2
	exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$root" && go build -o "$tmp/spikebridge" ./cmd/spikebridge)

# Flags both programs share, with the reference's default values spelled out.
shared="--steps $steps --seed $seed --threads 1 --loss huber --lr 1e-3 --gamma 0.99 --buffer 50000 \
--batch 64 --target-sync 500 --eps-start 1.0 --eps-end 0.05 --eps-steps 10000 --warmup 1000 \
--eval-episodes 20 --window 20 --keep-best-every 0"

load() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime; }
# Each program's whole-process CPU seconds (user+sys), when /usr/bin/time
# exists: on a loaded machine they say more than wall-clock rates.
cputime() {
	out=$1
	shift
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f '%U %S' -o "$out" "$@"
	else
		echo "nan nan" >"$out"
		"$@"
	fi
}
load_before=$(load)
echo "spikebridge train dqn (Gorgonia, GOMAXPROCS=1) ..." >&2
# shellcheck disable=SC2086
cputime "$tmp/go.cpu" env GOMAXPROCS=1 "$tmp/spikebridge" train dqn $shared --double=false --tau 0 --lr-final 1e-3 \
	--checkpoint-every 0 --out "$tmp/go" --json >"$tmp/go.json"

load_between=$(load)
echo "dqn_torch.py (PyTorch, --threads 1) ..." >&2
# shellcheck disable=SC2086
cputime "$tmp/torch.cpu" "$py" "$ref/dqn_torch.py" $shared >"$tmp/torch.out"
grep '^RESULT ' "$tmp/torch.out" | sed 's/^RESULT //' >"$tmp/torch.json"
load_after=$(load)

"$py" - "$tmp/go.json" "$tmp/torch.json" "$load_before" "$load_between" "$load_after" "$(nproc)" \
	"$(tail -n 1 "$tmp/go.cpu")" "$(tail -n 1 "$tmp/torch.cpu")" <<'PY'
import json, sys
go = json.load(open(sys.argv[1]))
th = json.load(open(sys.argv[2]))
def cpu_s(field):
    try:
        return sum(float(v) for v in field.split())
    except ValueError:
        return float("nan")
go["cpu_s"], th["cpu_s"] = cpu_s(sys.argv[7]), cpu_s(sys.argv[8])
def upd_us(r):
    u = r.get("updates_per_s_learn_only")
    return 1e6 / u if u else float("nan")
print(f"steps {go['steps']}, seed {go['seed']}, identical hyper-parameters, 1 thread each")
print(f"{'':12s} {'env steps/s':>12s} {'train wall s':>13s} {'us/update':>10s} {'eval mean':>10s} {'process CPU s':>14s}")
for name, r in (("spikebridge", go), ("pytorch", th)):
    print(f"{name:12s} {r['steps_per_s']:12.0f} {r['train_wall_s']:13.1f} {upd_us(r):10.0f} {r['eval_mean']:10.1f} {r['cpu_s']:14.1f}")
print(f"ratio spikebridge/pytorch env steps/s: {go['steps_per_s'] / th['steps_per_s']:.2f}x")
print(f"ratio spikebridge/pytorch us/update:   {upd_us(go) / upd_us(th):.2f}x")
print(f"ratio pytorch/spikebridge process CPU s (start-up and evaluation included): {th['cpu_s'] / go['cpu_s']:.2f}x")
print(f"load average (1/5/15 min) before {sys.argv[3]}, between {sys.argv[4]}, after {sys.argv[5]}; {sys.argv[6]} CPUs")
PY
