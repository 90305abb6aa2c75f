package learn

import (
	"fmt"
	"math"
)

// PES is Nengo's Prescribed Error Sensitivity rule (nengo.PES): the weights
// of a connection move against the error, in proportion to the presynaptic
// activities filtered by the rule's own synapse:
//
//	delta = −LearningRate·dt/n_pre · outer(error, pre_filtered)
//
// for decoders (D, n_pre), or outer(E·error, pre_filtered) for a full weight
// matrix (n_post, n_pre) onto neurons with scaled encoders E (gain·e, n_post
// by D). Nengo adds a step's delta to the weights after the step, so the
// weights used in step k+1 are those of step k plus delta[k].
type PES struct {
	LearningRate float64 // Nengo's learning_rate (default 1e-4)
}

// Check reports an invalid learning rate.
func (p PES) Check() error {
	if !(p.LearningRate >= 0) || math.IsInf(p.LearningRate, 0) {
		return fmt.Errorf("learn: PES learning rate %v, want a finite number >= 0", p.LearningRate)
	}
	return nil
}

// UpdateDecoders adds one step's PES change to decoders (len(errorValue),
// len(preFiltered)) row-major, computing alpha·error first as Nengo does.
func (p PES) UpdateDecoders(decoders, errorValue, preFiltered []float64, dt float64) {
	nPre := len(preFiltered)
	if len(decoders) != len(errorValue)*nPre {
		panic(fmt.Sprintf("learn: PES.UpdateDecoders: %d decoder values for %d errors × %d neurons", len(decoders), len(errorValue), nPre))
	}
	alpha := -p.LearningRate * dt / float64(nPre)
	for o, e := range errorValue {
		scaled := alpha * e
		if scaled == 0 {
			continue
		}
		row := decoders[o*nPre : (o+1)*nPre]
		for i, a := range preFiltered {
			row[i] += scaled * a
		}
	}
}

// UpdateWeights adds one step's PES change to a full weight matrix
// (n_post, n_pre) onto neurons whose scaled encoders (n_post, D) project the
// D-dimensional error onto each postsynaptic neuron. scratch needs n_post
// values.
func (p PES) UpdateWeights(weights, scaledEncoders, errorValue, preFiltered, scratch []float64, dt float64) {
	nPre, d := len(preFiltered), len(errorValue)
	nPost := len(scratch)
	if len(weights) != nPost*nPre || len(scaledEncoders) != nPost*d {
		panic(fmt.Sprintf("learn: PES.UpdateWeights: %d weights, %d encoder values for %d post, %d pre neurons, %d dimensions",
			len(weights), len(scaledEncoders), nPost, nPre, d))
	}
	alpha := -p.LearningRate * dt / float64(nPre)
	for j := range scratch {
		s := 0.0
		for k, e := range errorValue {
			s += scaledEncoders[j*d+k] * e
		}
		scratch[j] = alpha * s
	}
	for j, scaled := range scratch {
		if scaled == 0 {
			continue
		}
		row := weights[j*nPre : (j+1)*nPre]
		for i, a := range preFiltered {
			row[i] += scaled * a
		}
	}
}
