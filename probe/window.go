package probe

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// DefaultWindow is the default window length in steps.
const DefaultWindow = 100

// Window is a run of consecutive steps of one trial, from Start.
type Window struct {
	Trial, Start int
}

// WindowOptions steer SplitWindows.
type WindowOptions struct {
	// Length is the window length in steps (DefaultWindow if 0); Stride the
	// step between window starts (Length if 0: non-overlapping windows).
	Length, Stride int
	// ValFraction of the trials (rounded up, at least one when > 0) go to
	// validation; whole trials, so no validation step is seen in training.
	ValFraction float64
	// Seed drives the choice of validation trials and the shuffle of the
	// training windows.
	Seed uint64
}

// WindowSplit is the result of SplitWindows: training windows in a seeded
// shuffled order, validation windows in trial order, and the trial indices
// of each side (sorted).
type WindowSplit struct {
	Length, Stride         int
	Train, Val             []Window
	TrainTrials, ValTrials []int
}

// SplitWindows cuts every trial of p into windows of opts.Length steps and
// splits them by trial into training and validation sets.
func SplitWindows(p *Data, opts WindowOptions) (*WindowSplit, error) {
	length, stride := opts.Length, opts.Stride
	if length == 0 {
		length = DefaultWindow
	}
	if stride == 0 {
		stride = length
	}
	switch {
	case length < 2:
		return nil, fmt.Errorf("probe: window of %d steps, want at least 2", length)
	case stride < 1:
		return nil, fmt.Errorf("probe: window stride %d, want at least 1", stride)
	case length > p.Steps:
		return nil, fmt.Errorf("probe: window of %d steps is longer than a trial (%d steps); use a shorter window or longer trials", length, p.Steps)
	case !(opts.ValFraction >= 0 && opts.ValFraction < 1):
		return nil, fmt.Errorf("probe: validation fraction %v, want a value in [0, 1)", opts.ValFraction)
	}
	nVal := 0
	if opts.ValFraction > 0 {
		nVal = max(1, int(math.Ceil(opts.ValFraction*float64(p.Trials)-1e-9)))
		if nVal >= p.Trials {
			return nil, fmt.Errorf("probe: %d trials cannot be split into training and validation (%v of them to validation); record more trials", p.Trials, opts.ValFraction)
		}
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x5b1175))
	order := rng.Perm(p.Trials)
	isVal := make([]bool, p.Trials)
	for _, t := range order[:nVal] {
		isVal[t] = true
	}
	s := &WindowSplit{Length: length, Stride: stride}
	for t := 0; t < p.Trials; t++ {
		if isVal[t] {
			s.ValTrials = append(s.ValTrials, t)
		} else {
			s.TrainTrials = append(s.TrainTrials, t)
		}
		for start := 0; start+length <= p.Steps; start += stride {
			w := Window{Trial: t, Start: start}
			if isVal[t] {
				s.Val = append(s.Val, w)
			} else {
				s.Train = append(s.Train, w)
			}
		}
	}
	if len(s.Train) == 0 {
		return nil, errors.New("probe: no training windows")
	}
	rng.Shuffle(len(s.Train), func(i, j int) { s.Train[i], s.Train[j] = s.Train[j], s.Train[i] })
	return s, nil
}
