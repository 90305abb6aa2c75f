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
# The reference: 5 iterations at batch 1, timed end to end (numpy's import and
# the trial generation included: they are a small part of its run). Wall and
# CPU (user+sys) seconds both, since on a shared machine wall time inflates.
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 /usr/bin/time -f "%e %U %S" -o "$tmp/ref.time" \
	"$py" "$ref/eprop_nest_ref.py" 1 >"$tmp/ref.txt"
read -r rw ru rs <"$tmp/ref.time"
ref_wall=$(echo "$rw" | awk '{printf "%.1f", $1*1000/5}')
ref_cpu=$(echo "$ru $rs" | awk '{printf "%.1f", ($1+$2)*1000/5}')
echo "eprop_nest_ref.py batch 1: $ref_wall ms/iteration wall, $ref_cpu ms CPU (5 iterations, whole script); $(tail -1 "$tmp/ref.txt")"

cpu_of() { # batch workers iterations -> CPU seconds (user+sys) of the whole process, and the JSON in go.json
	GOMAXPROCS=$2 /usr/bin/time -f "%U %S" -o "$tmp/go.time" "$tmp/spikebridge" train eprop --batch "$1" --workers "$2" \
		--iterations "$3" --eval-trials 1 --checkpoint-every "$(($3 > 0 ? $3 : 1))" --out "$tmp/run-$1-$2-$3" --json 2>/dev/null >"$tmp/go.json"
	awk '{print $1+$2}' "$tmp/go.time"
}
run() { # batch workers iterations -> "wall_ms_per_iteration cpu_ms_per_iteration"
	# CPU per iteration subtracts a 0-iteration run's CPU (start-up, the final
	# evaluation, the plots and files), so both sides count training only.
	base=$(cpu_of "$1" "$2" 0)
	total=$(cpu_of "$1" "$2" "$3")
	"$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["ms_per_iteration"], (float(sys.argv[3])-float(sys.argv[2]))*1000/int(sys.argv[4]))' \
		"$tmp/go.json" "$base" "$total" "$3"
}
set -- $(run 1 1 "$iters")
echo "spikebridge batch 1, 1 thread: $1 ms/iteration wall, $2 ms CPU ($iters iterations)"
echo "speed-up at batch 1: $(echo "$ref_wall $1" | awk '{printf "%.0fx", $1/$2}') wall, $(echo "$ref_cpu $2" | awk '{printf "%.0fx", $1/$2}') CPU"
set -- $(run 32 1 10)
echo "spikebridge batch 32, 1 thread: $1 ms/iteration wall, $2 ms CPU (10 iterations)"
cpus=$(nproc)
set -- $(run 32 "$cpus" 10)
echo "spikebridge batch 32, $cpus threads: $1 ms/iteration wall, $2 ms CPU (10 iterations)"
echo "machine load after: $(uptime)"
