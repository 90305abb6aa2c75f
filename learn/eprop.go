package learn

import (
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/spikebridge/spikebridge/snn"
)

// Loss is the task loss whose error drives the learning signal.
type Loss string

// Losses of an e-prop task.
const (
	// LossCrossEntropy: softmax readouts, error π − onehot(class), loss
	// −mean ln π_class over the loss window.
	LossCrossEntropy Loss = "cross-entropy"
	// LossMSE: identity readouts, error y − y*, loss ½ Σ_k (y_k − y*_k)²
	// averaged over the loss window.
	LossMSE Loss = "mse"
)

// Gradient says how the weight gradient is formed.
type Gradient string

// Gradients: e-prop (NEST's, the default) or surrogate-gradient BPTT, the
// exact gradient of the same loss through the same surrogate ψ.
const (
	GradientEprop Gradient = "eprop"
	GradientBPTT  Gradient = "bptt"
)

// EpropConfig are e-prop's hyper-parameters. NESTEpropConfig gives the
// values of NEST's evidence-accumulation test.
type EpropConfig struct {
	// SurrogateScale is γ of the surrogate ψ = γ/v_th · max(0, 1 − |v − A|/v_th).
	SurrogateScale float64
	// RegStrength c_reg and TargetRate (spikes per step) of the firing-rate
	// regularisation c_reg (f_j − TargetRate)/T · Σ_t e_ji.
	RegStrength, TargetRate float64
	// Adam: step size, decay rates and ε; weights are clipped to ±WeightClip.
	LearningRate, Beta1, Beta2, Epsilon float64
	WeightClip                          float64
	Loss                                Loss
	// LossWindow is the number of last steps of each sequence that carry the
	// error (the recall window); the learning signal is zero before it.
	LossWindow int
	// Gradient is GradientEprop (also when empty) or GradientBPTT.
	Gradient Gradient
	// Workers simulates samples of a batch in parallel (0: GOMAXPROCS). The
	// result does not depend on it.
	Workers int
}

// NESTEpropConfig returns the settings of NEST's e-prop evidence-accumulation
// test (γ 0.3, c_reg 2, 10 Hz at dt = 1 ms, Adam 5e-3, clip 100, recall 150).
func NESTEpropConfig() EpropConfig {
	return EpropConfig{
		SurrogateScale: 0.3, RegStrength: 2.0, TargetRate: 10.0 / 1000,
		LearningRate: 5e-3, Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-8, WeightClip: 100,
		Loss: LossCrossEntropy, LossWindow: 150,
	}
}

func (c *EpropConfig) validate() error {
	for _, p := range []struct {
		name string
		v    float64
	}{
		{"surrogate scale", c.SurrogateScale}, {"regularisation strength", c.RegStrength},
		{"target rate", c.TargetRate}, {"learning rate", c.LearningRate},
		{"Adam beta1", c.Beta1}, {"Adam beta2", c.Beta2}, {"Adam epsilon", c.Epsilon},
		{"weight clip", c.WeightClip},
	} {
		if math.IsNaN(p.v) || math.IsInf(p.v, 0) || p.v < 0 {
			return fmt.Errorf("learn: e-prop %s is %v, want a finite value of 0 or more", p.name, p.v)
		}
	}
	if c.Beta1 >= 1 || c.Beta2 >= 1 {
		return fmt.Errorf("learn: e-prop Adam decay rates %v, %v, want values below 1", c.Beta1, c.Beta2)
	}
	if c.Loss != LossCrossEntropy && c.Loss != LossMSE {
		return fmt.Errorf("learn: e-prop loss %q, want %q or %q", c.Loss, LossCrossEntropy, LossMSE)
	}
	if c.Gradient != "" && c.Gradient != GradientEprop && c.Gradient != GradientBPTT {
		return fmt.Errorf("learn: gradient %q, want %q or %q", c.Gradient, GradientEprop, GradientBPTT)
	}
	if c.LossWindow <= 0 {
		return fmt.Errorf("learn: e-prop loss window of %d steps, want at least 1", c.LossWindow)
	}
	return nil
}

// Sequence is one training sample: Inputs (steps × inputs, row-major; spikes
// as 0/1) and its target, a class for cross-entropy or a signal (steps ×
// outputs) for MSE.
type Sequence struct {
	Inputs []float64
	Class  int
	Target []float64
}

// Batch is a set of sequences of equal length.
type Batch struct {
	Steps     int
	Sequences []Sequence
}

// Result summarises one batch.
type Result struct {
	// Loss is the mean over the batch of the per-sequence loss.
	Loss float64
	// Accuracy (cross-entropy only) is the share of sequences whose readout
	// signal, averaged over the loss window, is largest for the target class.
	Accuracy float64
	// Spikes of the recurrent neurons, over the batch; SynOps likewise.
	Spikes, SynOps int64
}

// Eprop trains a snn.Recurrent network by e-prop with fixed random feedback.
type Eprop struct {
	Net *snn.Recurrent
	// Feedback is B (Neurons × Outputs), the fixed random feedback weights.
	Feedback []float64
	Config   EpropConfig

	// GradInput, GradRecurrent and GradOutput hold the batch-averaged
	// gradients of the last Gradients call, shaped like the weights.
	GradInput, GradRecurrent, GradOutput []float64

	// Adam moments of the three weight matrices and the step count.
	AdamStep                      int
	MomentInput, MomentRecurrent  []float64
	MomentOutput                  []float64
	VarianceInput, VarianceRecurr []float64
	VarianceOutput                []float64

	workers []*worker
	samples []*sampleGrad
}

// NewEprop checks the network, feedback and configuration and returns a
// trainer with zero Adam moments.
func NewEprop(net *snn.Recurrent, feedback []float64, cfg EpropConfig) (*Eprop, error) {
	if err := net.Validate(); err != nil {
		return nil, fmt.Errorf("learn: %w", err)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if len(feedback) != net.Neurons*net.Outputs {
		return nil, fmt.Errorf("learn: e-prop feedback weights: %d values, want neurons×outputs = %d×%d", len(feedback), net.Neurons, net.Outputs)
	}
	if i := firstNonFinite(feedback); i >= 0 {
		return nil, fmt.Errorf("learn: e-prop feedback weights: element (%d, %d) is %v, want a finite value", i/net.Outputs, i%net.Outputs, feedback[i])
	}
	if cfg.Loss == LossCrossEntropy && net.Output != snn.OutputSoftmax {
		return nil, fmt.Errorf("learn: e-prop cross-entropy loss needs softmax readouts, the network's output is %q", net.Output)
	}
	if cfg.Loss == LossMSE && net.Output != snn.OutputIdentity {
		return nil, fmt.Errorf("learn: e-prop MSE loss needs identity readouts, the network's output is %q", net.Output)
	}
	nIn, nRec, nOut := len(net.InputWeights), len(net.RecurrentWeights), len(net.OutputWeights)
	e := &Eprop{
		Net: net, Feedback: feedback, Config: cfg,
		GradInput: make([]float64, nIn), GradRecurrent: make([]float64, nRec), GradOutput: make([]float64, nOut),
		MomentInput: make([]float64, nIn), MomentRecurrent: make([]float64, nRec), MomentOutput: make([]float64, nOut),
		VarianceInput: make([]float64, nIn), VarianceRecurr: make([]float64, nRec), VarianceOutput: make([]float64, nOut),
	}
	net.Refresh()
	return e, nil
}

func firstNonFinite(v []float64) int {
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return i
		}
	}
	return -1
}

// CheckBatch returns an error naming the first sequence that does not fit the
// network, the configuration or the batch's length.
func (e *Eprop) CheckBatch(b *Batch) error {
	n := e.Net
	if len(b.Sequences) == 0 {
		return fmt.Errorf("learn: e-prop batch has no sequences")
	}
	if b.Steps < e.Config.LossWindow {
		return fmt.Errorf("learn: e-prop batch sequences have %d steps, fewer than the %d-step loss window", b.Steps, e.Config.LossWindow)
	}
	for s, seq := range b.Sequences {
		if len(seq.Inputs) != b.Steps*n.Inputs {
			return fmt.Errorf("learn: e-prop sequence %d: %d input values, want steps×inputs = %d×%d", s, len(seq.Inputs), b.Steps, n.Inputs)
		}
		if i := firstNonFinite(seq.Inputs); i >= 0 {
			return fmt.Errorf("learn: e-prop sequence %d: input (step %d, input %d) is %v, want a finite value", s, i/n.Inputs, i%n.Inputs, seq.Inputs[i])
		}
		switch e.Config.Loss {
		case LossCrossEntropy:
			if seq.Class < 0 || seq.Class >= n.Outputs {
				return fmt.Errorf("learn: e-prop sequence %d: target class %d, want 0 to %d (%d readouts)", s, seq.Class, n.Outputs-1, n.Outputs)
			}
		case LossMSE:
			if len(seq.Target) != b.Steps*n.Outputs {
				return fmt.Errorf("learn: e-prop sequence %d: %d target values, want steps×outputs = %d×%d", s, len(seq.Target), b.Steps, n.Outputs)
			}
			if i := firstNonFinite(seq.Target); i >= 0 {
				return fmt.Errorf("learn: e-prop sequence %d: target (step %d, output %d) is %v, want a finite value", s, i/n.Outputs, i%n.Outputs, seq.Target[i])
			}
		}
	}
	return nil
}

// Iterate computes the batch's gradients and applies one Adam step.
func (e *Eprop) Iterate(b *Batch) (Result, error) {
	r, err := e.Gradients(b)
	if err != nil {
		return r, err
	}
	e.Apply()
	return r, nil
}

// Gradients simulates every sequence of b with the current weights and
// stores the batch-averaged e-prop gradients in GradInput, GradRecurrent and
// GradOutput. The weights are not changed.
func (e *Eprop) Gradients(b *Batch) (Result, error) {
	if err := e.CheckBatch(b); err != nil {
		return Result{}, err
	}
	e.Net.Refresh()
	nSeq := len(b.Sequences)
	workers := e.Config.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, nSeq)
	for len(e.workers) < workers {
		w, err := newWorker(e.Net)
		if err != nil {
			return Result{}, err
		}
		e.workers = append(e.workers, w)
	}
	for len(e.samples) < nSeq {
		e.samples = append(e.samples, newSampleGrad(e.Net))
	}
	if workers == 1 {
		for s := range b.Sequences {
			e.workers[0].sequence(e, b.Steps, &b.Sequences[s], e.samples[s])
		}
	} else {
		e.parallel(b, workers)
	}
	var r Result
	clear(e.GradInput)
	clear(e.GradRecurrent)
	clear(e.GradOutput)
	correct := 0
	for s := 0; s < nSeq; s++ {
		g := e.samples[s]
		addTo(e.GradInput, g.input)
		addTo(e.GradRecurrent, g.recurrent)
		addTo(e.GradOutput, g.output)
		r.Loss += g.loss
		r.Spikes += g.spikes
		r.SynOps += g.synOps
		if g.correct {
			correct++
		}
	}
	inv := float64(nSeq)
	for _, grad := range [][]float64{e.GradInput, e.GradRecurrent, e.GradOutput} {
		for i := range grad {
			grad[i] /= inv
		}
	}
	r.Loss /= inv
	if e.Config.Loss == LossCrossEntropy {
		r.Accuracy = float64(correct) / inv
	}
	return r, nil
}

// parallel simulates the sequences of b on workers goroutines, sequence s
// on worker s mod workers, each into its own gradient buffer.
func (e *Eprop) parallel(b *Batch, workers int) {
	nSeq := len(b.Sequences)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for s := w; s < nSeq; s += workers {
				e.workers[w].sequence(e, b.Steps, &b.Sequences[s], e.samples[s])
			}
		}(w)
	}
	wg.Wait()
}

func addTo(dst, src []float64) {
	for i, v := range src {
		dst[i] += v
	}
}

// Apply takes one Adam step on the three weight matrices with the stored
// gradients, clips the weights and keeps the recurrent diagonal at zero.
func (e *Eprop) Apply() {
	c := e.Config
	e.AdamStep++
	step := float64(e.AdamStep)
	rate := c.LearningRate * math.Sqrt(1-math.Pow(c.Beta2, step)) / (1 - math.Pow(c.Beta1, step))
	for _, p := range []struct{ w, g, m, v []float64 }{
		{e.Net.InputWeights, e.GradInput, e.MomentInput, e.VarianceInput},
		{e.Net.RecurrentWeights, e.GradRecurrent, e.MomentRecurrent, e.VarianceRecurr},
		{e.Net.OutputWeights, e.GradOutput, e.MomentOutput, e.VarianceOutput},
	} {
		for i, g := range p.g {
			p.m[i] = c.Beta1*p.m[i] + (1-c.Beta1)*g
			p.v[i] = c.Beta2*p.v[i] + (1-c.Beta2)*g*g
			w := p.w[i] - rate*p.m[i]/(math.Sqrt(p.v[i])+c.Epsilon)
			p.w[i] = max(-c.WeightClip, min(c.WeightClip, w))
		}
	}
	n := e.Net.Neurons
	for j := 0; j < n; j++ {
		e.Net.RecurrentWeights[j*n+j] = 0
	}
	e.Net.Refresh()
}

// Evaluate simulates the batch without learning and returns its loss and
// accuracy (GradInput etc. are left as they were).
func (e *Eprop) Evaluate(b *Batch) (Result, error) {
	saved := [3][]float64{append([]float64(nil), e.GradInput...), append([]float64(nil), e.GradRecurrent...), append([]float64(nil), e.GradOutput...)}
	r, err := e.Gradients(b)
	copy(e.GradInput, saved[0])
	copy(e.GradRecurrent, saved[1])
	copy(e.GradOutput, saved[2])
	return r, err
}
