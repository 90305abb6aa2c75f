package emulator

import (
	"fmt"
	"math"

	"github.com/spikebridge/spikebridge/convert"
	"github.com/spikebridge/spikebridge/env"
	"github.com/spikebridge/spikebridge/model"
	"github.com/spikebridge/spikebridge/probe"
)

// Eval is one network of one emulator file on its validation trials.
type Eval struct {
	Model     string `json:"model"`
	Network   string `json:"network"` // "ann", "snn", "spiking"
	Task      string `json:"task"`
	Timesteps int    `json:"timesteps,omitempty"`
	// Levels: a clip-floor ANN evaluated with its activations rounded to
	// this many levels (its training mode); 0 = clipped only or plain.
	Levels  int       `json:"levels,omitempty"`
	OneStep []float64 `json:"one_step_nrmse"`
	// WindowRollout (forward tasks): the model run free over every
	// validation window from the window's first state under the recorded
	// inputs, NRMSE of the targets over the window (RMSE / std of the true
	// targets over the validation windows): the sequence-emulation figure
	// of a forward model.
	WindowRollout []float64 `json:"window_rollout_nrmse,omitempty"`
	// Rollout figures (forward tasks, EvalOptions.Rollout > 0).
	Rollout1s    []float64    `json:"rollout_1s_nrmse,omitempty"`
	RolloutFull  []float64    `json:"rollout_nrmse,omitempty"`
	Free         *probe.Cycle `json:"free,omitempty"`
	FreeFailures int          `json:"free_failures,omitempty"`
	// SpikesPerSample is the mean number of spikes per prediction (SNNs).
	SpikesPerSample float64 `json:"spikes_per_sample,omitempty"`
}

// candidate is one network of an emulator file to score.
type candidate struct {
	name    string
	T       int
	levels  int
	predict probe.Predictor
	spikes  func() float64
}

// candidates lists the networks of m: the emulator itself and, for a rate
// emulator, its rounded clip-floor network and its SNN at every T.
func candidates(path string, m *Model, data *Data, o EvalOptions) ([]candidate, error) {
	cands := []candidate{{name: m.Doc.Kind, predict: m.Predictor()}}
	if m.SpikingForward() {
		r, err := m.SpikingForwardRegressor()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		cands[0] = candidate{name: KindSpiking, T: m.Doc.Timesteps, predict: r.Predict, spikes: func() float64 {
			c := r.Counters()
			return float64(c.TotalSpikes()) / max(float64(c.Decisions), 1)
		}}
	} else if m.Rate != nil {
		cands[0].name = "ann"
		levels := m.Doc.Config.ClipFloor
		if levels > 0 {
			q := model.ClipFloorPredictor(m.Rate, levels)
			cands = append(cands, candidate{name: "ann", levels: levels, predict: func(dst, x []float32) error { q(dst, x); return nil }})
		}
		if len(o.Timesteps) > 0 {
			copts := convert.BaselineOptions(o.Timesteps[0])
			norm := o.Norm
			if norm == "auto" || norm == "" {
				norm = string(convert.LayerWise)
				if levels > 0 {
					norm = string(convert.Unit)
				}
			}
			copts.Normalization = convert.Normalization(norm)
			copts.Percentile = o.Percentile
			copts.CalibrationRounds = o.Calibration
			s, _, err := convert.ConvertRegression(m.Rate, convert.States{Data: data.Train.X, Width: data.Train.In}, copts)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			for _, T := range o.Timesteps {
				r, err := convert.NewRegressor(s, T)
				if err != nil {
					return nil, err
				}
				cands = append(cands, candidate{name: "snn", T: T, predict: r.Predict, spikes: func() float64 {
					c := r.Counters()
					if c.Decisions == 0 {
						return 0
					}
					return float64(c.TotalSpikes()) / float64(c.Decisions)
				}})
			}
		}
	} else {
		st := m.Spiking.NewState()
		var spikes, runs float64
		cands[0].predict = func(dst, x []float32) error {
			m.Spiking.Forward(dst, x, st)
			spikes += float64(st.Spikes)
			runs++
			return nil
		}
		cands[0].spikes = func() float64 { return spikes / max(runs, 1) }
	}
	return cands, nil
}

// EvalOptions steer Evaluate.
type EvalOptions struct {
	// Timesteps are the T values at which a rate emulator's converted SNN
	// is scored (empty: no conversion); the conversion runs at the first.
	Timesteps []int
	// Norm is the SNN's normalisation: a convert.Normalization, or "auto"
	// (or empty): unit for a clip-floor emulator, layer-wise otherwise.
	Norm string
	// Percentile and Calibration are convert.Options' Percentile and
	// CalibrationRounds.
	Percentile  float64
	Calibration int
	// Rollout > 0 (seconds, forward tasks) adds closed-loop rollouts from
	// every validation trial's first state and free runs with zero input.
	Rollout float64
}

// Evaluate scores the emulator m read from path on data's validation
// windows: one Eval for the network itself and, for a rate emulator, one
// for its rounded clip-floor network and one per T of its converted SNN.
func Evaluate(path string, m *Model, data *Data, o EvalOptions) ([]Eval, error) {
	task := &m.Doc.Task
	var evals []Eval
	cands, err := candidates(path, m, data, o)
	if err != nil {
		return nil, err
	}
	for _, c := range cands {
		ev := Eval{Model: path, Network: c.name, Task: string(task.Kind), Timesteps: c.T, Levels: c.levels}
		if ev.OneStep, err = task.NRMSE(data.Val, c.predict); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if c.spikes != nil {
			ev.SpikesPerSample = c.spikes()
		}
		if task.Kind == probe.ForwardTask {
			if ev.WindowRollout, err = windowRollouts(task, data, c.predict); err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
		}
		if task.Kind == probe.ForwardTask && o.Rollout > 0 {
			if err := evalRollouts(&ev, task, data, c.predict, o.Rollout); err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
		}
		evals = append(evals, ev)
	}
	return evals, nil
}

// evalRollouts fills the rollout figures of ev from every validation trial.
func evalRollouts(ev *Eval, task *probe.Task, data *Data, predict probe.Predictor, seconds float64) error {
	p := data.Probe
	steps := min(int(math.Round(seconds/p.Dt)), p.Steps-1)
	steps1 := min(int(math.Round(1/p.Dt)), steps)
	dims := task.TargetSize
	se1, seAll := make([]float64, dims), make([]float64, dims)
	n1, nAll := make([]float64, dims), make([]float64, dims)
	freeSteps := int(math.Round(seconds / p.Dt))
	zeros := make([]float64, freeSteps*p.InputSize)
	var cycles []probe.Cycle
	for _, tr := range data.Split.ValTrials {
		s0 := p.Target(tr, 0)
		if hasNaN64(s0) {
			continue
		}
		inputs := p.Inputs[tr*p.Steps*p.InputSize:]
		roll, err := task.Rollout(predict, s0, inputs, steps)
		if err != nil {
			return err
		}
		for k := 0; k <= steps; k++ {
			for d := 0; d < dims; d++ {
				v := p.Target(tr, k)[d]
				if math.IsNaN(v) {
					continue
				}
				e := (roll[k*dims+d] - v) / task.Norm.TargetStd[d]
				seAll[d] += e * e
				nAll[d]++
				if k <= steps1 {
					se1[d] += e * e
					n1[d]++
				}
			}
		}
		free, err := task.Rollout(predict, s0, zeros, freeSteps)
		if err != nil {
			ev.FreeFailures++
			continue
		}
		x := make([]float64, freeSteps+1)
		for k := range x {
			x[k] = free[k*dims]
		}
		c, err := probe.LimitCycle(x, p.Dt, seconds/3)
		if err != nil {
			ev.FreeFailures++
			continue
		}
		cycles = append(cycles, c)
	}
	ev.Rollout1s, ev.RolloutFull = make([]float64, dims), make([]float64, dims)
	for d := 0; d < dims; d++ {
		ev.Rollout1s[d] = math.Sqrt(se1[d] / max(n1[d], 1))
		ev.RolloutFull[d] = math.Sqrt(seAll[d] / max(nAll[d], 1))
	}
	if len(cycles) > 0 {
		ev.Free = mergeCycles(cycles)
	}
	return nil
}

// windowRollouts runs the forward model over every validation window.
func windowRollouts(task *probe.Task, data *Data, predict probe.Predictor) ([]float64, error) {
	p := data.Probe
	dims := task.TargetSize
	se, sum, sum2, n := make([]float64, dims), make([]float64, dims), make([]float64, dims), make([]float64, dims)
	for _, w := range data.Split.Val {
		s0 := p.Target(w.Trial, w.Start)
		if hasNaN64(s0) {
			continue
		}
		roll, err := task.Rollout(predict, s0, p.Inputs[(w.Trial*p.Steps+w.Start)*p.InputSize:], task.Window-1)
		if err != nil {
			return nil, err
		}
		for k := 0; k < task.Window; k++ {
			for d, v := range p.Target(w.Trial, w.Start+k) {
				if math.IsNaN(v) {
					continue
				}
				e := roll[k*dims+d] - v
				se[d] += e * e
				sum[d] += v
				sum2[d] += v * v
				n[d]++
			}
		}
	}
	out := make([]float64, dims)
	for d := range out {
		if n[d] == 0 {
			return nil, fmt.Errorf("window rollouts: target %d has no value", d)
		}
		mean := sum[d] / n[d]
		out[d] = math.Sqrt(se[d]/n[d]) / math.Sqrt(sum2[d]/n[d]-mean*mean)
	}
	return out, nil
}

// mergeCycles pools free-run analyses: mean period and amplitude, extreme
// single cycles.
func mergeCycles(cs []probe.Cycle) *probe.Cycle {
	out := probe.Cycle{MinPeriod: math.Inf(1), MinAmplitude: math.Inf(1)}
	for _, c := range cs {
		out.Period += c.Period / float64(len(cs))
		out.Amplitude += c.Amplitude / float64(len(cs))
		out.MinPeriod, out.MaxPeriod = min(out.MinPeriod, c.MinPeriod), max(out.MaxPeriod, c.MaxPeriod)
		out.MinAmplitude, out.MaxAmplitude = min(out.MinAmplitude, c.MinAmplitude), max(out.MaxAmplitude, c.MaxAmplitude)
		out.Cycles += c.Cycles
	}
	return &out
}

// ReferenceFree runs the true system with zero input from the validation
// trials' first states, sampled like the data, and analyses it as the
// emulator's free runs are.
func ReferenceFree(sys env.DrivenSystem, name string, task *probe.Task, data *Data, seconds float64) (*probe.Cycle, error) {
	if sys.StateSize() != task.TargetSize || sys.InputSize() != task.InputSize {
		return nil, fmt.Errorf("emulator: reference system %s has %d inputs and %d states, the data %d and %d", name, sys.InputSize(), sys.StateSize(), task.InputSize, task.TargetSize)
	}
	p := data.Probe
	it := env.NewIntegrator(sys)
	steps := int(math.Round(seconds / p.Dt))
	u := make([]float64, sys.InputSize())
	var cycles []probe.Cycle
	for _, tr := range data.Split.ValTrials {
		s := append([]float64(nil), p.Target(tr, 0)...)
		if hasNaN64(s) {
			continue
		}
		x := make([]float64, steps+1)
		x[0] = s[0]
		for k := 1; k <= steps; k++ {
			it.Advance(s, u, p.Dt, 10)
			x[k] = s[0]
		}
		c, err := probe.LimitCycle(x, p.Dt, seconds/3)
		if err != nil {
			return nil, fmt.Errorf("reference %s: %w", name, err)
		}
		cycles = append(cycles, c)
	}
	if len(cycles) == 0 {
		return nil, fmt.Errorf("reference %s: no validation trial with a known first state", name)
	}
	return mergeCycles(cycles), nil
}

func hasNaN64(v []float64) bool {
	for _, x := range v {
		if math.IsNaN(x) {
			return true
		}
	}
	return false
}
