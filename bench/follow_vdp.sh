#!/usr/bin/env bash
# follow_vdp.sh: the FOLLOW acceptance run on van der Pol (mu = 2) with
# `spikebridge learn follow`: trains NEURONS recurrent LIF neurons for TRIALS
# trials of 5 s, then scores the network alone from held-out states (1 s
# NRMSE per state, free-run period and amplitude against the reference) and
# draws the learning curve and the first rollout. Long: minutes to hours
# depending on NEURONS and TRIALS; it is not part of `go test`.
#
# Environment: NEURONS (500), TRIALS (150), SEED (1), OUT (follow-run).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
neurons=${NEURONS:-500}
trials=${TRIALS:-150}
seed=${SEED:-1}
out=${OUT:-follow-run}
mkdir -p "$out"
echo "load: $(uptime)"
(cd "$root" && go build -o "$out/spikebridge" ./cmd/spikebridge)
"$out/spikebridge" learn follow --neurons "$neurons" --trials "$trials" --seed "$seed" \
	--output "$out/curve.csv" --plot "$out/learning_curve.png" --rollout-plot "$out/rollout.png"
