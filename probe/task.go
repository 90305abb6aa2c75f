package probe

import (
	"fmt"
	"math"
)

// TaskKind says what an emulator learns from a probe data set.
type TaskKind string

const (
	// ForwardTask: the target state and input at step k in, the change of
	// the state to step k+1 out (a one-step forward model). The targets
	// must be the system's state.
	ForwardTask TaskKind = "forward"
	// SequenceTask: a whole window in one sample: the inputs over the
	// window, flattened, and the targets at the window's first step in;
	// the targets at every step of the window out (flattened), as
	// differences from the first step's (Task.Residual), so the network
	// predicts how the state moves, not the state it was given.
	SequenceTask TaskKind = "sequence"
)

// Norm holds the per-dimension statistics every feature and output is
// standardised with, (v - mean) / std, computed on training trials.
type Norm struct {
	InputMean  []float64 `json:"input_mean"`
	InputStd   []float64 `json:"input_std"`
	TargetMean []float64 `json:"target_mean"`
	TargetStd  []float64 `json:"target_std"`
	// ChangeMean and ChangeStd are the one-step changes' (ForwardTask).
	ChangeMean []float64 `json:"change_mean,omitempty"`
	ChangeStd  []float64 `json:"change_std,omitempty"`
}

// Task is an emulation task on a probe data set: what goes in and out of
// the network, and the normalisation. It is stored with a trained emulator.
type Task struct {
	Kind       TaskKind `json:"kind"`
	Window     int      `json:"window"`
	InputSize  int      `json:"input_size"`
	TargetSize int      `json:"target_size"`
	Dt         float64  `json:"dt"`
	// Residual: sequence outputs are (target_k − target_0) / TargetStd;
	// Absolute adds the context back.
	Residual    bool     `json:"residual,omitempty"`
	InputNames  []string `json:"input_names,omitempty"`
	TargetNames []string `json:"target_names,omitempty"`
	Norm        Norm     `json:"norm"`
}

// NewTask sets up a task of the given kind on p, with statistics from the
// training trials of split.
func NewTask(kind TaskKind, p *Data, split *WindowSplit) (*Task, error) {
	if kind != ForwardTask && kind != SequenceTask {
		return nil, fmt.Errorf("probe: task %q, want %q or %q", kind, ForwardTask, SequenceTask)
	}
	t := &Task{Kind: kind, Window: split.Length, InputSize: p.InputSize, TargetSize: p.TargetSize, Dt: p.Dt,
		InputNames: p.InputNames, TargetNames: p.TargetNames, Residual: kind == SequenceTask}
	var err error
	n := &t.Norm
	if n.InputMean, n.InputStd, err = columnStats(p.Inputs, p.InputSize, p.Steps, split.TrainTrials, nil); err != nil {
		return nil, fmt.Errorf("probe: inputs: %w", err)
	}
	if n.TargetMean, n.TargetStd, err = columnStats(p.Targets, p.TargetSize, p.Steps, split.TrainTrials, nil); err != nil {
		return nil, fmt.Errorf("probe: targets: %w", err)
	}
	if kind == ForwardTask {
		diff := func(tr, k, d int) float64 {
			if k+1 >= p.Steps {
				return math.NaN()
			}
			return p.Target(tr, k+1)[d] - p.Target(tr, k)[d]
		}
		if n.ChangeMean, n.ChangeStd, err = columnStats(nil, p.TargetSize, p.Steps, split.TrainTrials, diff); err != nil {
			return nil, fmt.Errorf("probe: one-step changes: %w", err)
		}
	}
	return t, nil
}

// columnStats returns the mean and standard deviation of every column over
// the given trials, ignoring NaN; a constant column gets std 1.
func columnStats(data []float64, width, steps int, trials []int, value func(tr, k, d int) float64) (mean, std []float64, err error) {
	mean, std = make([]float64, width), make([]float64, width)
	count := make([]float64, width)
	sum2 := make([]float64, width)
	for pass := 0; pass < 2; pass++ {
		for _, tr := range trials {
			for k := 0; k < steps; k++ {
				for d := 0; d < width; d++ {
					var v float64
					if value != nil {
						v = value(tr, k, d)
					} else {
						v = data[(tr*steps+k)*width+d]
					}
					if math.IsNaN(v) {
						continue
					}
					if pass == 0 {
						mean[d] += v
						count[d]++
					} else {
						sum2[d] += (v - mean[d]) * (v - mean[d])
					}
				}
			}
		}
		if pass == 0 {
			for d := range mean {
				if count[d] == 0 {
					return nil, nil, fmt.Errorf("column %d has no finite value in the training trials", d)
				}
				mean[d] /= count[d]
			}
		}
	}
	for d := range std {
		std[d] = math.Sqrt(sum2[d] / count[d])
		if !(std[d] > 1e-12) {
			std[d] = 1
		}
	}
	return mean, std, nil
}

// FeatureSize is the length of the network's input vector.
func (t *Task) FeatureSize() int {
	if t.Kind == ForwardTask {
		return t.TargetSize + t.InputSize
	}
	return t.Window*t.InputSize + t.TargetSize
}

// OutputSize is the length of the network's output vector.
func (t *Task) OutputSize() int {
	if t.Kind == ForwardTask {
		return t.TargetSize
	}
	return t.Window * t.TargetSize
}

// Samples are standardised network inputs X (Rows, FeatureSize) and
// outputs Y (Rows, OutputSize), row-major; NaN in Y marks a missing target.
type Samples struct {
	X, Y    []float32
	Rows    int
	In, Out int
	// MissingInput counts the samples left out because their features
	// would need a missing value (a forward step from a NaN state or under
	// a NaN input, a sequence window whose first target or an input is
	// NaN); MissingTarget those left out because every target is NaN (they
	// would add nothing to the NaN-masked loss).
	MissingInput, MissingTarget int
}

// Row returns sample i's features and targets (shared).
func (s *Samples) Row(i int) (x, y []float32) {
	return s.X[i*s.In : (i+1)*s.In], s.Y[i*s.Out : (i+1)*s.Out]
}

// Samples builds the standardised samples of the windows. A sample whose
// features would need a missing value, or whose targets are all missing, is
// left out and counted (MissingInput, MissingTarget): with the NaN-masked
// loss such samples contribute nothing, so leaving them out changes no
// loss. An error says so when no sample is left.
func (t *Task) Samples(p *Data, windows []Window) (*Samples, error) {
	if p.InputSize != t.InputSize || p.TargetSize != t.TargetSize {
		return nil, fmt.Errorf("probe: the data set has %d inputs and %d targets, the task %d and %d",
			p.InputSize, p.TargetSize, t.InputSize, t.TargetSize)
	}
	s := &Samples{In: t.FeatureSize(), Out: t.OutputSize()}
	n := &t.Norm
	x := make([]float32, s.In)
	y := make([]float32, s.Out)
	add := func() {
		if allNaN(y) {
			s.MissingTarget++
			return
		}
		s.X = append(s.X, x...)
		s.Y = append(s.Y, y...)
		s.Rows++
	}
	for _, w := range windows {
		if w.Trial < 0 || w.Trial >= p.Trials || w.Start < 0 || w.Start+t.Window > p.Steps {
			return nil, fmt.Errorf("probe: window (trial %d, start %d, %d steps) is outside the data (%d trials of %d steps)",
				w.Trial, w.Start, t.Window, p.Trials, p.Steps)
		}
		switch t.Kind {
		case ForwardTask:
			for k := w.Start; k+1 < w.Start+t.Window; k++ {
				s0, s1 := p.Target(w.Trial, k), p.Target(w.Trial, k+1)
				if hasNaN(s0) || hasNaN(p.Input(w.Trial, k)) {
					s.MissingInput++
					continue
				}
				t.ForwardFeatures(x, s0, p.Input(w.Trial, k))
				for d := range y {
					y[d] = float32((s1[d] - s0[d] - n.ChangeMean[d]) / n.ChangeStd[d])
				}
				add()
			}
		case SequenceTask:
			first := p.Target(w.Trial, w.Start)
			inputsMissing := false
			for k := 0; k < t.Window; k++ {
				inputsMissing = inputsMissing || hasNaN(p.Input(w.Trial, w.Start+k))
			}
			if hasNaN(first) || inputsMissing {
				s.MissingInput++
				continue
			}
			for k := 0; k < t.Window; k++ {
				for d, v := range p.Input(w.Trial, w.Start+k) {
					x[k*t.InputSize+d] = float32((v - n.InputMean[d]) / n.InputStd[d])
				}
				for d, v := range p.Target(w.Trial, w.Start+k) {
					if t.Residual {
						y[k*t.TargetSize+d] = float32((v - first[d]) / n.TargetStd[d])
					} else {
						y[k*t.TargetSize+d] = float32((v - n.TargetMean[d]) / n.TargetStd[d])
					}
				}
			}
			for d, v := range first {
				x[t.Window*t.InputSize+d] = float32((v - n.TargetMean[d]) / n.TargetStd[d])
			}
			add()
		}
	}
	if s.Rows == 0 {
		return nil, fmt.Errorf("probe: no usable samples: %d need a missing (NaN) state or input, %d have no target at all",
			s.MissingInput, s.MissingTarget)
	}
	return s, nil
}

// Absolute turns a sequence sample's outputs y (standardised residuals when
// t.Residual) into standardised targets in place, using its features x.
func (t *Task) Absolute(y, x []float32) {
	if t.Kind != SequenceTask || !t.Residual {
		return
	}
	ctx := x[t.Window*t.InputSize:]
	for i := range y {
		y[i] += ctx[i%t.TargetSize]
	}
}

// ForwardFeatures writes the standardised features of a forward-model step
// (state, input) into dst.
func (t *Task) ForwardFeatures(dst []float32, state, input []float64) {
	n := &t.Norm
	for d, v := range state {
		dst[d] = float32((v - n.TargetMean[d]) / n.TargetStd[d])
	}
	for d, v := range input {
		dst[t.TargetSize+d] = float32((v - n.InputMean[d]) / n.InputStd[d])
	}
}

// Predictor maps standardised features to standardised outputs.
type Predictor func(dst, x []float32) error

// Rollout runs a forward model free: from state s0 it feeds the model its
// own predictions, with inputs (steps, InputSize) row-major, and returns the
// states (steps+1, TargetSize) with s0 first.
func (t *Task) Rollout(predict Predictor, s0, inputs []float64, steps int) ([]float64, error) {
	if t.Kind != ForwardTask {
		return nil, fmt.Errorf("probe: a free-running rollout needs a %q task, this is %q", ForwardTask, t.Kind)
	}
	if len(s0) != t.TargetSize || len(inputs) < steps*t.InputSize {
		return nil, fmt.Errorf("probe: rollout from a state of %d values with %d input values for %d steps (want %d and %d)",
			len(s0), len(inputs), steps, t.TargetSize, steps*t.InputSize)
	}
	n := &t.Norm
	out := make([]float64, (steps+1)*t.TargetSize)
	copy(out, s0)
	x := make([]float32, t.FeatureSize())
	y := make([]float32, t.OutputSize())
	for k := 0; k < steps; k++ {
		cur := out[k*t.TargetSize : (k+1)*t.TargetSize]
		t.ForwardFeatures(x, cur, inputs[k*t.InputSize:(k+1)*t.InputSize])
		if err := predict(y, x); err != nil {
			return nil, fmt.Errorf("probe: rollout step %d: %w", k, err)
		}
		next := out[(k+1)*t.TargetSize : (k+2)*t.TargetSize]
		for d := range next {
			next[d] = cur[d] + float64(y[d])*n.ChangeStd[d] + n.ChangeMean[d]
			if math.IsNaN(next[d]) || math.IsInf(next[d], 0) {
				return out[:(k+2)*t.TargetSize], fmt.Errorf("probe: rollout diverged at step %d (state %v)", k+1, next)
			}
		}
	}
	return out, nil
}

func hasNaN(v []float64) bool {
	for _, x := range v {
		if math.IsNaN(x) {
			return true
		}
	}
	return false
}

func allNaN(v []float32) bool {
	for _, x := range v {
		if !math.IsNaN(float64(x)) {
			return false
		}
	}
	return true
}
