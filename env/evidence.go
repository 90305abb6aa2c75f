package env

import (
	"fmt"
	"math/rand/v2"
)

// EvidenceAccumulation is the evidence-accumulation task of Bellec et al.
// 2020 as NEST's e-prop tutorial and test build it: an agent sees Cues cues,
// each CueSteps long and preceded by SpacingSteps of silence, from the left
// or the right; after BackgroundSteps of background noise and during the last
// RecallSteps it must say which side gave more cues (class 1: right).
//
// The Inputs channels are four equal populations: left cue, right cue,
// recall and background. A cue drives its population at SpikeProb per step
// and channel, the recall population fires at SpikeProb during the recall
// window, the background population at SpikeProb/4 throughout; step 0 is
// silent. Each trial first picks a favoured side with probability ½; each cue
// then comes from the favoured side with probability 1 − MinorityProb.
type EvidenceAccumulation struct {
	Inputs                                               int
	Cues                                                 int
	CueSteps, SpacingSteps, BackgroundSteps, RecallSteps int
	SpikeProb, MinorityProb                              float64
}

// NESTEvidenceAccumulation returns the settings of NEST's e-prop test: 40
// inputs, 7 cues of 100 ms with 50 ms gaps, 1050 ms of background, a 150 ms
// recall, spike probability 0.04 per ms, minority probability 0.3 (2250 steps).
func NESTEvidenceAccumulation() EvidenceAccumulation {
	return EvidenceAccumulation{
		Inputs: 40, Cues: 7, CueSteps: 100, SpacingSteps: 50, BackgroundSteps: 1050, RecallSteps: 150,
		SpikeProb: 0.04, MinorityProb: 0.3,
	}
}

// Steps is the length of one trial.
func (e EvidenceAccumulation) Steps() int {
	return e.Cues*(e.CueSteps+e.SpacingSteps) + e.BackgroundSteps + e.RecallSteps
}

// Validate checks the settings.
func (e EvidenceAccumulation) Validate() error {
	switch {
	case e.Inputs < 4 || e.Inputs%4 != 0:
		return fmt.Errorf("env: evidence accumulation with %d inputs, want a positive multiple of 4 (left, right, recall, background populations)", e.Inputs)
	case e.Cues < 1:
		return fmt.Errorf("env: evidence accumulation with %d cues, want at least 1", e.Cues)
	case e.CueSteps < 1 || e.SpacingSteps < 0 || e.BackgroundSteps < 0 || e.RecallSteps < 1:
		return fmt.Errorf("env: evidence accumulation durations cue %d, spacing %d, background %d, recall %d steps: want cue and recall at least 1, the others 0 or more",
			e.CueSteps, e.SpacingSteps, e.BackgroundSteps, e.RecallSteps)
	case !(e.SpikeProb >= 0 && e.SpikeProb <= 1):
		return fmt.Errorf("env: evidence accumulation spike probability %v, want a value in [0, 1]", e.SpikeProb)
	case !(e.MinorityProb >= 0 && e.MinorityProb <= 1):
		return fmt.Errorf("env: evidence accumulation minority probability %v, want a value in [0, 1]", e.MinorityProb)
	}
	return nil
}

// CueStart is the first step of cue c.
func (e EvidenceAccumulation) CueStart(c int) int {
	return c*(e.CueSteps+e.SpacingSteps) + e.SpacingSteps
}

// Generate draws one trial from rng into dst (Steps × Inputs, row-major,
// spikes as 0/1) and the side of every cue into cues (Cues values, 0 left,
// 1 right), and returns the class: 1 when more than half the cues came from
// the right. It allocates nothing and panics on wrong buffer sizes.
func (e EvidenceAccumulation) Generate(rng *rand.Rand, dst []float64, cues []int) int {
	steps, in := e.Steps(), e.Inputs
	if len(dst) != steps*in || len(cues) != e.Cues {
		panic(fmt.Sprintf("env: evidence accumulation needs %d×%d inputs and %d cues, got %d and %d", steps, in, e.Cues, len(dst), len(cues)))
	}
	pop := in / 4
	// The minority side is left with probability ½.
	leftProb := e.MinorityProb
	if rng.IntN(2) == 1 {
		leftProb = 1 - e.MinorityProb
	}
	right := 0
	for c := range cues {
		cues[c] = 0
		if rng.Float64() >= leftProb {
			cues[c] = 1
			right++
		}
	}
	recallStart := steps - e.RecallSteps
	for t := 0; t < steps; t++ {
		row := dst[t*in : (t+1)*in]
		cueSide := -1
		if t < e.Cues*(e.CueSteps+e.SpacingSteps) {
			c := t / (e.CueSteps + e.SpacingSteps)
			if t >= e.CueStart(c) {
				cueSide = cues[c]
			}
		}
		for i := range row {
			p := e.SpikeProb / 4 // background
			switch g := i / pop; {
			case g < 2:
				p = 0
				if g == cueSide {
					p = e.SpikeProb
				}
			case g == 2:
				p = 0
				if t >= recallStart {
					p = e.SpikeProb
				}
			}
			row[i] = 0
			// Draw for every channel so that a trial uses a fixed count of numbers.
			if u := rng.Float64(); u < p && t > 0 {
				row[i] = 1
			}
		}
	}
	if right > e.Cues/2 {
		return 1
	}
	return 0
}
