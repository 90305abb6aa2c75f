package convert

import (
	"math"
	"slices"

	"github.com/spikebridge/spikebridge/model"
)

// SoftTargets returns, for every state, the teacher's Q-values softened
// into action probabilities, softmax(Q / tau), one row of OutputSize values
// per state, with tau = softness times the median over the states of the
// gap between the teacher's two largest Q-values. A student trained on them
// learns the teacher's margins, not only its argmax: on a balancing policy
// nearly every state is a near-tie (gaps of a few hundredths of Q ≈ 50), and
// hard labels say nothing about how near. Softness 1 puts a state with the
// median gap at probability 1/(1 + e^-1) ≈ 0.73 for the better action (two
// actions). When every gap is 0, the rows are one-hot argmax labels.
func SoftTargets(teacher *model.Network, states States, softness float64) []float32 {
	classes := teacher.OutputSize()
	rows := states.Rows()
	q := make([]float32, rows*classes)
	gaps := make([]float64, rows)
	ws := teacher.NewWorkspace(1)
	for r := 0; r < rows; r++ {
		row := q[r*classes : (r+1)*classes]
		teacher.Forward(row, states.Row(r), ws)
		gaps[r] = topGap(row)
	}
	tau := softness * median(gaps)
	out := make([]float32, len(q))
	for r := 0; r < rows; r++ {
		softmaxRow(out[r*classes:(r+1)*classes], q[r*classes:(r+1)*classes], tau)
	}
	return out
}

// topGap is the difference between the largest and second-largest value.
func topGap(v []float32) float64 {
	first, second := math.Inf(-1), math.Inf(-1)
	for _, x := range v {
		switch x := float64(x); {
		case x > first:
			first, second = x, first
		case x > second:
			second = x
		}
	}
	return first - second
}

// median of v (the mean of the middle two for an even count; 0 for none).
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// softmaxRow writes softmax(q / tau) into dst, or the one-hot argmax (ties:
// lowest index) when tau is not positive.
func softmaxRow(dst, q []float32, tau float64) {
	clear(dst)
	best := model.Argmax(q)
	if !(tau > 0) {
		dst[best] = 1
		return
	}
	var sum float64
	for i, x := range q {
		e := math.Exp((float64(x) - float64(q[best])) / tau)
		dst[i] = float32(e)
		sum += e
	}
	for i := range dst {
		dst[i] = float32(float64(dst[i]) / sum)
	}
}

// DefaultSoftness is the distillation recipe's softness (DistillOptions).
const DefaultSoftness = 0.0
