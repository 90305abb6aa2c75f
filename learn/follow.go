package learn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/spikebridge/spikebridge/env"
	"github.com/spikebridge/spikebridge/nef"
)

// FollowConfig sets up FOLLOW (Gilra & Gerstner, eLife 2017) on the driven
// van der Pol oscillator: a recurrent network of LIF neurons receives the
// command input u through a spiking input ensemble and, while learning, the
// output error ε = x − x̂ fed back through its encoders with gain k, which
// makes its decoded output x̂ follow the reference system's state x. Its
// feed-forward and recurrent weights learn by the local rule
//
//	dw_ij/dt = η/N · (e_i·ε̃) · r̃_j
//
// (ε̃ the filtered error, r̃_j the filtered presynaptic spikes), so that after
// learning the network alone (no feedback) predicts x from u.
type FollowConfig struct {
	Neurons      int     `json:"neurons"`       // recurrent LIF neurons (the paper: 3000)
	InputNeurons int     `json:"input_neurons"` // command-input ensemble
	Dt           float64 `json:"dt"`
	TauSynapse   float64 `json:"tau_synapse"`   // s, every synapse (paper: 20 ms)
	TauError     float64 `json:"tau_error"`     // s, the error's filter
	Feedback     float64 `json:"feedback_gain"` // k (paper: 10)
	LearningRate float64 `json:"learning_rate"` // η
	Mu           float64 `json:"mu"`            // van der Pol damping (paper: 2)
	// StateScale maps the oscillator's (x, y) into the network's unit range;
	// InputScale does the same for u.
	StateScale [2]float64 `json:"state_scale"`
	InputScale float64    `json:"input_scale"`
	// Training input: Ornstein-Uhlenbeck u of InputStd and correlation time
	// InputTau; trials of TrialSeconds from random states in [-2, 2]×[-3, 3].
	InputStd     float64 `json:"input_std"`
	InputTau     float64 `json:"input_tau"`
	TrialSeconds float64 `json:"trial_seconds"`
	Reg          float64 `json:"reg"`
	Seed         uint64  `json:"seed"`
}

// DefaultFollowConfig is the paper's van der Pol setting at a size that
// learns in minutes here.
func DefaultFollowConfig() FollowConfig {
	return FollowConfig{Neurons: 500, InputNeurons: 100, Dt: 0.001, TauSynapse: 0.02, TauError: 0.02, Feedback: 10,
		LearningRate: 2e-3, Mu: 2, StateScale: [2]float64{2.5, 5}, InputScale: 2, InputStd: 0.5, InputTau: 0.5,
		TrialSeconds: 5, Reg: 0.1}
}

// Check reports the first invalid setting.
func (c FollowConfig) Check() error {
	pos := func(v float64) bool { return v > 0 && !math.IsInf(v, 0) }
	switch {
	case c.Neurons <= 0 || c.Neurons > 20000:
		return fmt.Errorf("learn: follow: %d neurons, want 1 to 20000", c.Neurons)
	case c.InputNeurons <= 0 || c.InputNeurons > 20000:
		return fmt.Errorf("learn: follow: %d input neurons, want 1 to 20000", c.InputNeurons)
	case !pos(c.Dt) || !pos(c.TauSynapse) || !pos(c.TauError) || !pos(c.TrialSeconds) || !pos(c.InputScale):
		return fmt.Errorf("learn: follow: dt %v, synapse %v, error filter %v, trial %v s and input scale %v must be > 0",
			c.Dt, c.TauSynapse, c.TauError, c.TrialSeconds, c.InputScale)
	case !pos(c.StateScale[0]) || !pos(c.StateScale[1]):
		return fmt.Errorf("learn: follow: state scale %v, want both > 0", c.StateScale)
	case !(c.Feedback >= 0) || !(c.LearningRate >= 0) || !(c.InputStd >= 0) || math.IsInf(c.Feedback+c.LearningRate+c.InputStd, 0):
		return fmt.Errorf("learn: follow: feedback gain %v, learning rate %v, input std %v: want finite numbers >= 0", c.Feedback, c.LearningRate, c.InputStd)
	case c.InputStd > 0 && !pos(c.InputTau):
		return fmt.Errorf("learn: follow: input correlation time %v s, want > 0", c.InputTau)
	case !(c.Reg >= 0):
		return fmt.Errorf("learn: follow: regularisation %v, want >= 0", c.Reg)
	}
	return nil
}

// Follow is a FOLLOW network with the van der Pol reference beside it.
type Follow struct {
	Config FollowConfig
	Net    *nef.Ensemble // recurrent, 2-D
	Input  *nef.Ensemble // command input, 1-D
	// Decoders (2, N) read x̂ (scaled units) from the filtered spikes.
	Decoders []float64
	// Recurrent (N, N) and FeedForward (N, InputNeurons) are the learned weights.
	Recurrent, FeedForward []float64

	syn, errSyn        nef.Lowpass
	netState, inState  *nef.LIFState
	rFilt, uFilt       []float64
	J, out, Jin, outIn []float64
	errFilt, xhat, err []float64
	system             *env.VanDerPol
	integrator         *env.Integrator
}

// NewFollow builds the ensembles and decoders from cfg.Seed; the learned
// weights start at zero.
func NewFollow(cfg FollowConfig) (*Follow, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0xf0110))
	net, err := nef.NewEnsemble(nef.DefaultEnsembleSpec(cfg.Neurons, 2), rng)
	if err != nil {
		return nil, err
	}
	in, err := nef.NewEnsemble(nef.DefaultEnsembleSpec(cfg.InputNeurons, 1), rng)
	if err != nil {
		return nil, err
	}
	pts := nef.UniformBallPoints(nef.DefaultEvalPoints(net.N, 2), 2, rng)
	dec, err := nef.SolveDecoders(net, pts, pts, 2, cfg.Reg)
	if err != nil {
		return nil, fmt.Errorf("learn: follow: decoders: %w", err)
	}
	syn, _ := nef.NewLowpass(cfg.TauSynapse, cfg.Dt)
	errSyn, _ := nef.NewLowpass(cfg.TauError, cfg.Dt)
	n, m := cfg.Neurons, cfg.InputNeurons
	sys := env.NewVanDerPol(cfg.Mu)
	f := &Follow{Config: cfg, Net: net, Input: in, Decoders: dec, Recurrent: make([]float64, n*n), FeedForward: make([]float64, n*m),
		syn: syn, errSyn: errSyn, netState: nef.NewLIFState(n), inState: nef.NewLIFState(m),
		rFilt: make([]float64, n), uFilt: make([]float64, m), J: make([]float64, n), out: make([]float64, n),
		Jin: make([]float64, m), outIn: make([]float64, m), errFilt: make([]float64, 2), xhat: make([]float64, 2), err: make([]float64, 2),
		system: sys, integrator: env.NewIntegrator(sys)}
	return f, nil
}

// ResetState clears the neurons, synapses and the error (weights kept).
func (f *Follow) ResetState() {
	for _, s := range [][]float64{f.netState.Voltage, f.netState.Refractory, f.inState.Voltage, f.inState.Refractory,
		f.rFilt, f.uFilt, f.errFilt, f.xhat} {
		clear(s)
	}
}

// Step advances the network by dt under command u. With target (the
// reference state in the oscillator's units) the error is fed back with
// gain k and, if learn, the weights move; with target nil the network runs
// alone. It returns x̂ in the oscillator's units (valid until the next call).
func (f *Follow) Step(u float64, target []float64, learn bool) []float64 {
	cfg := &f.Config
	n, m := cfg.Neurons, cfg.InputNeurons
	f.Input.Current(f.Jin, []float64{u / cfg.InputScale})
	f.Input.Neuron.Step(cfg.Dt, f.Jin, f.outIn, f.inState)
	enc := f.Net.Encoders
	for i := 0; i < n; i++ {
		s := 0.0
		row := f.Recurrent[i*n : (i+1)*n]
		for j, r := range f.rFilt {
			s += row[j] * r
		}
		ff := f.FeedForward[i*m : (i+1)*m]
		for l, r := range f.uFilt {
			s += ff[l] * r
		}
		if target != nil {
			s += cfg.Feedback * (enc[2*i]*f.errFilt[0] + enc[2*i+1]*f.errFilt[1])
		}
		f.J[i] = f.Net.Bias[i] + f.Net.Gain[i]*s
	}
	f.Net.Neuron.Step(cfg.Dt, f.J, f.out, f.netState)
	f.syn.Step(f.uFilt, f.outIn)
	f.syn.Step(f.rFilt, f.out)
	for d := 0; d < 2; d++ {
		s := 0.0
		for i, r := range f.rFilt {
			s += f.Decoders[d*n+i] * r
		}
		f.xhat[d] = s
	}
	if target != nil {
		for d := 0; d < 2; d++ {
			f.err[d] = target[d]/cfg.StateScale[d] - f.xhat[d]
		}
		f.errSyn.Step(f.errFilt, f.err)
		if learn && cfg.LearningRate > 0 {
			scale := cfg.LearningRate * cfg.Dt / float64(n)
			for i := 0; i < n; i++ {
				c := scale * (enc[2*i]*f.errFilt[0] + enc[2*i+1]*f.errFilt[1])
				if c == 0 {
					continue
				}
				row := f.Recurrent[i*n : (i+1)*n]
				for j, r := range f.rFilt {
					row[j] += c * r
				}
				ff := f.FeedForward[i*m : (i+1)*m]
				for l, r := range f.uFilt {
					ff[l] += c * r
				}
			}
		}
	}
	return []float64{f.xhat[0] * cfg.StateScale[0], f.xhat[1] * cfg.StateScale[1]}
}

// ou is an Ornstein-Uhlenbeck input sampled exactly every dt.
type ou struct {
	value, decay, noise float64
	rng                 *rand.Rand
}

func newOU(std, tau, dt float64, rng *rand.Rand) *ou {
	if std == 0 {
		return &ou{rng: rng}
	}
	decay := math.Exp(-dt / tau)
	return &ou{value: std * rng.NormFloat64(), decay: decay, noise: std * math.Sqrt(1-decay*decay), rng: rng}
}

func (o *ou) next() float64 {
	v := o.value
	o.value = o.decay*o.value + o.noise*o.rng.NormFloat64()
	return v
}

// FollowTrial is one training trial's record.
type FollowTrial struct {
	Trial int `json:"trial"`
	// ErrorRMS is the RMS of the error ε (scaled units, both dimensions)
	// over the trial after its first 0.2 s, feedback on.
	ErrorRMS float64 `json:"error_rms"`
}

// Train runs trials of learning with feedback: each from a fresh random
// reference state under fresh OU input; the reference is integrated by RK4
// beside the network. The network state carries over between trials.
// progress (optional) is called after every trial.
func (f *Follow) Train(trials int, rng *rand.Rand, progress func(FollowTrial)) []FollowTrial {
	cfg := &f.Config
	steps := int(math.Round(cfg.TrialSeconds / cfg.Dt))
	// The first 0.2 s of a trial (at most half of it), while the output
	// catches up with the new state, are left out of the error: learning
	// cannot shorten that jump.
	settle := min(int(math.Round(0.2/cfg.Dt)), steps/2)
	state := make([]float64, 2)
	u := []float64{0}
	var out []FollowTrial
	for t := 0; t < trials; t++ {
		state[0], state[1] = 4*rng.Float64()-2, 6*rng.Float64()-3
		input := newOU(cfg.InputStd, cfg.InputTau, cfg.Dt, rng)
		se, counted := 0.0, 0
		for k := 0; k < steps; k++ {
			u[0] = input.next()
			f.Step(u[0], state, true)
			if k >= settle {
				se += f.err[0]*f.err[0] + f.err[1]*f.err[1]
				counted++
			}
			f.integrator.Advance(state, u, cfg.Dt, 1)
		}
		rec := FollowTrial{Trial: t, ErrorRMS: math.Sqrt(se / float64(2*max(counted, 1)))}
		out = append(out, rec)
		if progress != nil {
			progress(rec)
		}
	}
	return out
}

// FollowEval scores the network alone as eval-emulator scores emulators.
type FollowEval struct {
	Trials int `json:"trials"`
	// NRMSE1s is the RMSE of the 1 s prediction (network alone, after
	// WarmupSeconds with feedback) per state dimension over the reference's
	// standard deviation in the test trials.
	NRMSE1s       []float64 `json:"nrmse_1s"`
	WarmupSeconds float64   `json:"warmup_seconds"`
	// Free running (u = 0, no feedback) from the first test state.
	FreePeriod         float64 `json:"free_period"`
	FreeAmplitude      float64 `json:"free_amplitude"`
	ReferencePeriod    float64 `json:"reference_period"`
	ReferenceAmplitude float64 `json:"reference_amplitude"`
	FreeError          string  `json:"free_error,omitempty"`
	// Rollout holds the first trial's prediction and reference (steps, 2).
	Rollout, Reference []float64 `json:"-"`
	FreeX, FreeRefX    []float64 `json:"-"`
}

// Evaluate runs trials held-out tests: the reference starts from a random
// state (from rng), the network follows it with feedback (no learning) for
// warmup seconds, then runs alone for 1 s under the same input; then a free
// run of freeSeconds with u = 0 from the first trial's state, analysed like
// eval-emulator's free runs (upward zero crossings of x after a third).
func (f *Follow) Evaluate(trials int, warmup, freeSeconds float64, rng *rand.Rand, cycle func(x []float64, dt, skip float64) (period, amplitude float64, err error)) FollowEval {
	cfg := &f.Config
	dt := cfg.Dt
	warm, steps := int(math.Round(warmup/dt)), int(math.Round(1/dt))
	ev := FollowEval{Trials: trials, WarmupSeconds: warmup}
	var pred, truth []float64
	state := make([]float64, 2)
	u := []float64{0}
	for t := 0; t < trials; t++ {
		f.ResetState()
		state[0], state[1] = 4*rng.Float64()-2, 6*rng.Float64()-3
		input := newOU(cfg.InputStd, cfg.InputTau, dt, rng)
		for k := 0; k < warm; k++ {
			u[0] = input.next()
			f.Step(u[0], state, false)
			f.integrator.Advance(state, u, dt, 1)
		}
		for k := 0; k < steps; k++ {
			truth = append(truth, state[0], state[1])
			u[0] = input.next()
			x := f.Step(u[0], nil, false)
			pred = append(pred, x[0], x[1])
			f.integrator.Advance(state, u, dt, 1)
		}
	}
	ev.Rollout, ev.Reference = pred[:2*steps], truth[:2*steps]
	ev.NRMSE1s = make([]float64, 2)
	for d := 0; d < 2; d++ {
		var se, sum, sum2 float64
		n := float64(len(truth) / 2)
		for k := d; k < len(truth); k += 2 {
			e := pred[k] - truth[k]
			se += e * e
			sum += truth[k]
			sum2 += truth[k] * truth[k]
		}
		std := math.Sqrt(sum2/n - (sum/n)*(sum/n))
		ev.NRMSE1s[d] = math.Sqrt(se/n) / std
	}
	// free run: warm up on the limit cycle, then alone with u = 0
	free := int(math.Round(freeSeconds / dt))
	f.ResetState()
	state[0], state[1] = 2, 0
	u[0] = 0
	for k := 0; k < warm; k++ {
		f.Step(0, state, false)
		f.integrator.Advance(state, u, dt, 1)
	}
	ev.FreeX, ev.FreeRefX = make([]float64, free), make([]float64, free)
	for k := 0; k < free; k++ {
		ev.FreeX[k] = f.Step(0, nil, false)[0]
		ev.FreeRefX[k] = state[0]
		f.integrator.Advance(state, u, dt, 1)
	}
	var err error
	if ev.FreePeriod, ev.FreeAmplitude, err = cycle(ev.FreeX, dt, freeSeconds/3); err != nil {
		ev.FreeError = err.Error()
	}
	ev.ReferencePeriod, ev.ReferenceAmplitude, _ = cycle(ev.FreeRefX, dt, freeSeconds/3)
	return ev
}
