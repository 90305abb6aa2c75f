#!/bin/sh
# policy_zoo.sh: regenerate the CartPole policy zoo that conversion fidelity
# is developed and checked on (issue 13). Each entry is one `spikebridge
# train dqn` run whose greedy return lands somewhere in 50–500: short runs,
# small replay buffers, Double DQN off, keep-best off (the final network,
# not the best one), nets from 4-16-16-2 to 4-256-256-2, one to three hidden
# layers. The two shared PyTorch policies (../shared/fixtures/policies) are
# listed beside them; bench/fidelity.sh runs both.
#
# usage: bench/policy_zoo.sh [DIR]     (default /tmp/spikebridge-zoo)
# Writes DIR/NAME/model.safetensors per entry and DIR/zoo.txt (one line per
# policy: name, model file, greedy return of train dqn's own evaluation).
# About 2 min of CPU on one core; nothing is written into the repository.
set -eu
dir=${1:-/tmp/spikebridge-zoo}
root=$(cd "$(dirname "$0")/.." && pwd)
fixtures=${SPIKEBRIDGE_FIXTURES:-$root/../shared/fixtures}
mkdir -p "$dir"
bin="$dir/spikebridge"
(cd "$root" && go build -o "$bin" ./cmd/spikebridge)

# name | train dqn flags (all runs: one thread, no checkpoints, 100 eval episodes)
zoo='z01-64x2-s1-6k|--seed 1 --steps 6000 --keep-best-every 0
z02-64x2-s2-12k|--seed 2 --steps 12000 --keep-best-every 0
z03-16x2-s3-20k-plain|--seed 3 --steps 20000 --hidden 16,16 --double=false --keep-best-every 0
z04-32x2-s4-15k-buf2k|--seed 4 --steps 15000 --hidden 32,32 --buffer 2000 --keep-best-every 0
z05-32x2-s5-25k-plain|--seed 5 --steps 25000 --hidden 32,32 --double=false --keep-best-every 0
z06-16x2-s6-12k-buf1k|--seed 6 --steps 12000 --hidden 16,16 --buffer 1000 --keep-best-every 0
z07-128-s7-15k|--seed 7 --steps 15000 --hidden 128 --keep-best-every 0
z08-64x3-s8-15k|--seed 8 --steps 15000 --hidden 64,64,64 --keep-best-every 0
z09-24x2-s9-12k-plain|--seed 9 --steps 12000 --hidden 24,24 --double=false --keep-best-every 0
z10-256x2-s10-8k|--seed 10 --steps 8000 --hidden 256,256 --keep-best-every 0
z11-32x2-s11-30k-best|--seed 11 --steps 30000 --hidden 32,32
z12-64x2-s12-20k-best|--seed 12 --steps 20000
z13-32x2-s13-2500|--seed 13 --steps 2500 --hidden 32,32 --keep-best-every 0'

: >"$dir/zoo.txt.tmp"
echo "$zoo" | while IFS='|' read -r name flags; do
	out="$dir/$name"
	# shellcheck disable=SC2086
	"$bin" train dqn $flags --threads 1 --checkpoint-every 0 --force --out "$out" --json >"$out.json" 2>/dev/null
	ret=$(sed -n 's/.*"eval_mean": *\([0-9.]*\).*/\1/p' "$out.json")
	printf '%s %s %s\n' "$name" "$out/model.safetensors" "$ret" | tee -a "$dir/zoo.txt.tmp"
done
for pt in "$fixtures"/policies/*.pt; do
	[ -f "$pt" ] || continue
	printf '%s %s %s\n' "shared-$(basename "$pt" .pt)" "$pt" "-" | tee -a "$dir/zoo.txt.tmp"
done
mv "$dir/zoo.txt.tmp" "$dir/zoo.txt"
