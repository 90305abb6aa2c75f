#!/bin/sh
# fidelity.sh: how much of each zoo policy's behaviour the default conversion
# keeps (issue 13). For every policy of bench/policy_zoo.sh's list it runs
#   record (60 episodes, 20 % random actions) -> convert (defaults) ->
#   compare (100 episodes, the same initial states for ANN and SNN)
# and prints one table: ANN return, SNN/ANN return ratio and own-trajectory
# agreement at T = 4, 8, 16, 64, decisive agreement at T = 8 and 16, the
# share of episodes whose length differs from the ANN's at T = 8, and the
# conversion's wall and CPU time (user + sys).
#
# usage: bench/fidelity.sh [ZOO_DIR [CONVERT FLAGS...]]
#   ZOO_DIR defaults to /tmp/spikebridge-zoo (made by bench/policy_zoo.sh,
#   which is run first when ZOO_DIR/zoo.txt is missing). Extra flags go to
#   every `convert`, e.g. --dagger-rounds 0 to measure plain distillation.
# Needs go, jq and /usr/bin/time. Outputs stay in ZOO_DIR/fidelity/.
# SPIKEBRIDGE_BIN=path uses that binary instead of building one.
set -eu
dir=${1:-/tmp/spikebridge-zoo}
[ $# -gt 0 ] && shift
root=$(cd "$(dirname "$0")/.." && pwd)
for tool in jq /usr/bin/time; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "fidelity: $tool is missing (apt-get install -y jq time)" >&2
		exit 1
	fi
done
[ -f "$dir/zoo.txt" ] || sh "$root/bench/policy_zoo.sh" "$dir" >&2
bin=${SPIKEBRIDGE_BIN:-$dir/spikebridge}
[ -n "${SPIKEBRIDGE_BIN:-}" ] || (cd "$root" && go build -o "$bin" ./cmd/spikebridge)
work="$dir/fidelity"
mkdir -p "$work"

echo "machine: $(uptime)"
printf '%-34s %6s | %-27s | %-27s | %-13s | %5s | %6s %6s\n' policy ANN "return SNN/ANN T=4 8 16 64" \
	"own agreement % T=4 8 16 64" "dec% T=8 16" "len≠%" "wall s" "cpu s"
while read -r name model _; do
	w="$work/$name"
	mkdir -p "$w"
	"$bin" record --model "$model" --episodes 60 --seed 1 --epsilon 0.2 -o "$w/states.npz" >/dev/null
	/usr/bin/time -f '%e %U %S' -o "$w/time.txt" "$bin" convert --model "$model" --calib "$w/states.npz" \
		-o "$w/snn.safetensors" --student-out "$w/student.safetensors" --json "$@" >"$w/convert.json" 2>"$w/convert.log"
	"$bin" compare --ann "$model" --snn "$w/snn.safetensors" --source "$w/student.safetensors" \
		--episodes 100 --timesteps 4,8,16,64 --out "$w/compare" --json >"$w/compare.json" 2>/dev/null
	jq -r --arg name "$name" --arg time "$(cat "$w/time.txt")" '
		def pct: . * 100 | tostring | .[0:5];
		def r3: . * 1000 | round / 1000 | tostring;
		($time | split(" ") | map(tonumber)) as $t |
		([.results[] | {key: (.timesteps | tostring), value: .}] | from_entries) as $r |
		[$name, (.ann.returns_mean | . * 10 | round / 10 | tostring),
		 ([("4", "8", "16", "64") | $r[.].return_ratio | r3] | join(" ")),
		 ([("4", "8", "16", "64") | $r[.].agreement_own | pct] | join(" ")),
		 ([("8", "16") | $r[.].agreement_decisive | pct] | join(" ")),
		 ($r["8"].length_differs | pct),
		 ($t[0] | tostring), ($t[1] + $t[2] | . * 100 | round / 100 | tostring)] |
		"\(.[0]) \(.[1]) | \(.[2]) | \(.[3]) | \(.[4]) | \(.[5]) | \(.[6]) \(.[7])"' "$w/compare.json" |
		awk -F' [|] ' '{split($1, a, " "); printf "%-34s %6s | %-27s | %-27s | %-13s | %5s | %s\n", a[1], a[2], $2, $3, $4, $5, $6}'
done <"$dir/zoo.txt"
echo "machine: $(uptime)"
