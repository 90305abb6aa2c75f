#!/bin/sh
# eprop_vs_numpy.sh: e-prop training iterations/s of `spikebridge train eprop`
# against the dense numpy re-implementation of NEST's e-prop
# (../shared/reference/eprop_nest_ref.py, NEST's 5-iteration test case), in one
# run on this machine, one thread each: same network (50 LIF + 50 ALIF, 40
# inputs, 2 readouts), same 2250-step trials, batch 1. Then our ms/iteration at
# batch 32 (one thread and all CPUs); the reference's script only runs batch 1 and 2.
#
# usage: bench/eprop_vs_numpy.sh [ITERATIONS]      (default 50 for ours)
# It installs nothing. Needs go and /usr/bin/python3 with numpy.
# SPIKEBRIDGE_BIN=path uses that spikebridge binary instead of building one.
set -eu
iters=${1:-50}
root=$(cd "$(dirname "$0")/.." && pwd)
ref=${SPIKEBRIDGE_REFERENCE:-$root/../shared/reference}
py=/usr/bin/python3

if [ ! -f "$ref/eprop_nest_ref.py" ]; then
	echo "eprop_vs_numpy: $ref/eprop_nest_ref.py not found (set SPIKEBRIDGE_REFERENCE to the reference directory)" >&2
	exit 1
fi
if ! "$py" -c 'import numpy' 2>/dev/null; then
	echo "eprop_vs_numpy: $py lacks numpy; install it with: apt-get install -y python3-numpy" >&2
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -n "${SPIKEBRIDGE_BIN:-}" ]; then
	cp "$SPIKEBRIDGE_BIN" "$tmp/spikebridge"
else
	(cd "$root" && go build -o "$tmp/spikebridge" ./cmd/spikebridge)
fi

echo "machine load before: $(uptime)"
# The reference: 5 iterations at batch 1 (its whole run: data generation is a
# small part; we time the script end to end and say so).
start=$(date +%s.%N)
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 "$py" "$ref/eprop_nest_ref.py" 1 >"$tmp/ref.txt"
end=$(date +%s.%N)
ref_ms=$(echo "$start $end" | awk '{printf "%.1f", ($2-$1)*1000/5}')
echo "eprop_nest_ref.py batch 1: $ref_ms ms/iteration (5 iterations, whole script)"
tail -1 "$tmp/ref.txt"

run() { # batch workers iterations
	GOMAXPROCS=$2 "$tmp/spikebridge" train eprop --batch "$1" --workers "$2" --iterations "$3" --eval-trials 1 \
		--checkpoint-every "$3" --out "$tmp/run-$1-$2" --json |
		"$py" -c 'import json,sys; print(json.load(sys.stdin)["ms_per_iteration"])'
}
b1=$(run 1 1 "$iters")
echo "spikebridge batch 1, 1 thread: $b1 ms/iteration ($iters iterations)"
echo "speed-up at batch 1: $(echo "$ref_ms $b1" | awk '{printf "%.0fx", $1/$2}')"
b32=$(run 32 1 10)
echo "spikebridge batch 32, 1 thread: $b32 ms/iteration (10 iterations)"
cpus=$(nproc)
b32n=$(run 32 "$cpus" 10)
echo "spikebridge batch 32, $cpus threads: $b32n ms/iteration (10 iterations)"
echo "machine load after: $(uptime)"
