package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/spikebridge/spikebridge/convert"
	"github.com/spikebridge/spikebridge/emulator"
	"github.com/spikebridge/spikebridge/env"
	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/model"
	"github.com/spikebridge/spikebridge/probe"
	"github.com/spikebridge/spikebridge/report"
)

// EvalEmulatorOptions holds the flags of `spikebridge eval-emulator`.
type EvalEmulatorOptions struct {
	IO        *IOStreams
	Models    []string
	Data      string
	Rollout   float64
	Timesteps []int
	System    string
	Plot      string
	JSON      bool
	// Conversion settings of the rate emulator's SNN.
	Norm        string
	Percentile  float64
	Calibration int
}

// NewCmdEvalEmulator parses flags; runF replaces runEvalEmulator in tests.
func NewCmdEvalEmulator(ios *IOStreams, runF func(*EvalEmulatorOptions) error) *cobra.Command {
	opts := &EvalEmulatorOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "eval-emulator --model M [--model M2] --data probe.npz [--rollout S] [--json]",
		Short: "Evaluate emulators on their validation trials: NRMSE of the ANN, its converted SNN at several T, and spiking emulators",
		Long: `Rebuild each emulator's validation windows from the probe file (the split stored in the
model) and report NRMSE per target dimension (RMSE / std of the true values):

  one-step  forward task: of the predicted change to the next step (predicting "no
            change" scores ~1); sequence task: of the targets over whole windows.
  rollout   forward task with --rollout S: the model fed its own predictions from each
            validation trial's first state under the recorded inputs; NRMSE over the
            first 1 s and over S seconds (normalised by the target's std).
  free      forward task with --rollout S: the model run free with zero input for S
            seconds; period and amplitude of target 0 after S/3 s. With --system
            vanderpol|arm the true system is run the same way for reference.

A rate emulator is also converted to a spiking network (layer-wise 99.9th percentile
normalisation on its training features, membrane readout) and evaluated at every
--timesteps T. The plot shows forward models' window rollouts. A clip-floor emulator (train emulator --clip-floor L) is evaluated with
its activations clipped (row ann, the SNN's T → ∞ limit) and clipped and rounded to L
levels (row ann L=…, the network it was trained as), and converted with unit scales
(threshold 1 = the clip). One table (or one --json document) and, with --plot, one PNG.`,
		Example: "  spikebridge eval-emulator --model runs/vdp/model.safetensors --data vdp.npz --rollout 20 --system vanderpol",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(opts.Models) == 0 {
				return usageErrorf("--model FILE is required")
			}
			if runF != nil {
				return runF(opts)
			}
			return runEvalEmulator(opts)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&opts.Models, "model", nil, "emulator file (repeatable)")
	f.StringVar(&opts.Data, "data", "probe.npz", "probe data set the emulators were trained on")
	f.Float64Var(&opts.Rollout, "rollout", 0, "seconds of free-running rollout (forward tasks; 0 = none)")
	f.IntSliceVar(&opts.Timesteps, "timesteps", []int{8, 16, 32, 64, 128}, "T of the converted SNN (empty = no conversion)")
	f.StringVar(&opts.System, "system", "", "built-in system for reference free runs: vanderpol or arm")
	f.StringVar(&opts.Plot, "plot", "", "write the NRMSE plot to this PNG")
	f.StringVar(&opts.Norm, "norm", "auto", "SNN conversion: layer, neuron or unit normalisation; auto = unit for a --clip-floor emulator, layer otherwise")
	f.Float64Var(&opts.Percentile, "percentile", 99.9, "SNN conversion: activation percentile mapped to the threshold")
	f.IntVar(&opts.Calibration, "calibrate", 0, "SNN conversion: bias calibration rounds at the first --timesteps T on the training features")
	f.BoolVar(&opts.JSON, "json", false, "print one JSON document")
	return cmd
}

// EmulatorEval is one row of the table: one network on one model file.
type EmulatorEval struct {
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
	// Rollout figures (forward tasks with --rollout).
	Rollout1s    []float64    `json:"rollout_1s_nrmse,omitempty"`
	RolloutFull  []float64    `json:"rollout_nrmse,omitempty"`
	Free         *probe.Cycle `json:"free,omitempty"`
	FreeFailures int          `json:"free_failures,omitempty"`
	// SpikesPerSample is the mean number of spikes per prediction (SNNs).
	SpikesPerSample float64 `json:"spikes_per_sample,omitempty"`
}

// EvalEmulatorResult is the --json document of eval-emulator.
type EvalEmulatorResult struct {
	Data        string         `json:"data"`
	TargetNames []string       `json:"target_names"`
	ValTrials   []int          `json:"val_trials"`
	RolloutS    float64        `json:"rollout_s,omitempty"`
	Reference   *probe.Cycle   `json:"reference_free,omitempty"`
	Results     []EmulatorEval `json:"results"`
}

func runEvalEmulator(opts *EvalEmulatorOptions) error {
	if opts.Rollout < 0 || math.IsNaN(opts.Rollout) || math.IsInf(opts.Rollout, 0) {
		return usageErrorf("--rollout %v: want a number of seconds >= 0", opts.Rollout)
	}
	if len(opts.Timesteps) > 0 {
		if err := convert.CheckTimesteps(opts.Timesteps); err != nil {
			return usageError{err}
		}
	}
	if opts.Rollout > 0 {
		// The free run allocates per step of --rollout: check before any work.
		p, err := probe.Load(opts.Data)
		if err != nil {
			return err
		}
		if err := checkRolloutMemory(opts.Rollout, p.Dt, p.InputSize, p.TargetSize); err != nil {
			return err
		}
	}
	res := EvalEmulatorResult{Data: opts.Data, RolloutS: opts.Rollout}
	for _, path := range opts.Models {
		m, err := emulator.Load(path)
		if err != nil {
			return err
		}
		data, err := emulator.LoadSamples(opts.Data, &m.Doc.Task, m.Doc.Windows)
		if err != nil {
			return err
		}
		task := &m.Doc.Task
		res.TargetNames, res.ValTrials = task.TargetNames, data.Split.ValTrials
		type candidate struct {
			name    string
			T       int
			levels  int
			predict probe.Predictor
			spikes  func() float64
		}
		cands := []candidate{{name: m.Doc.Kind, predict: m.Predictor()}}
		if m.SpikingForward() {
			r, err := m.SpikingForwardRegressor()
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			cands[0] = candidate{name: emulator.KindSpiking, T: m.Doc.Timesteps, predict: r.Predict, spikes: func() float64 {
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
			if len(opts.Timesteps) > 0 {
				copts := convert.BaselineOptions(opts.Timesteps[0])
				norm := opts.Norm
				if norm == "auto" || norm == "" {
					norm = string(convert.LayerWise)
					if levels > 0 {
						norm = string(convert.Unit)
					}
				}
				copts.Normalization = convert.Normalization(norm)
				copts.Percentile = opts.Percentile
				copts.CalibrationRounds = opts.Calibration
				s, _, err := convert.ConvertRegression(m.Rate, convert.States{Data: data.Train.X, Width: data.Train.In}, copts)
				if err != nil {
					return fmt.Errorf("%s: %w", path, err)
				}
				for _, T := range opts.Timesteps {
					r, err := convert.NewRegressor(s, T)
					if err != nil {
						return err
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
		for _, c := range cands {
			ev := EmulatorEval{Model: path, Network: c.name, Task: string(task.Kind), Timesteps: c.T, Levels: c.levels}
			if ev.OneStep, err = task.NRMSE(data.Val, c.predict); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			if c.spikes != nil {
				ev.SpikesPerSample = c.spikes()
			}
			if task.Kind == probe.ForwardTask {
				if ev.WindowRollout, err = windowRollouts(task, data, c.predict); err != nil {
					return fmt.Errorf("%s: %w", path, err)
				}
			}
			if task.Kind == probe.ForwardTask && opts.Rollout > 0 {
				if err := evalRollouts(&ev, task, data, c.predict, opts.Rollout); err != nil {
					return fmt.Errorf("%s: %w", path, err)
				}
			}
			res.Results = append(res.Results, ev)
		}
		if opts.Rollout > 0 && opts.System != "" && task.Kind == probe.ForwardTask && res.Reference == nil {
			ref, err := referenceFree(opts.System, task, data, opts.Rollout)
			if err != nil {
				return err
			}
			res.Reference = ref
		}
	}
	if opts.Plot != "" {
		var series []report.NRMSESeries
		rolled := false
		for _, r := range res.Results {
			label := r.Network
			if r.Timesteps > 0 {
				label += " T=" + strconv.Itoa(r.Timesteps)
			}
			if r.Levels > 0 {
				label += " L=" + strconv.Itoa(r.Levels)
			}
			if len(opts.Models) > 1 {
				label = filepath.Base(filepath.Dir(r.Model)) + " " + label
			}
			// A forward model's sequence figure is its rollout over the
			// windows; the one-step change error stays in the table.
			values := r.OneStep
			if r.WindowRollout != nil {
				values = r.WindowRollout
				rolled = true
			}
			series = append(series, report.NRMSESeries{Label: label, Values: values})
		}
		title := "validation NRMSE per target (" + opts.Data + ")"
		if rolled {
			title = "validation NRMSE per target, forward models rolled over each window (" + opts.Data + ")"
		}
		if err := formats.WriteFileAtomic(opts.Plot, func(w io.Writer) error {
			return report.WriteNRMSEPlot(w, title, res.TargetNames, series, 0.1)
		}); err != nil {
			return err
		}
	}
	if opts.JSON {
		return json.NewEncoder(opts.IO.Out).Encode(res)
	}
	return printEmulatorTable(opts.IO.Out, &res)
}

// evalRollouts fills the rollout figures of ev from every validation trial.
func evalRollouts(ev *EmulatorEval, task *probe.Task, data *emulator.Data, predict probe.Predictor, seconds float64) error {
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
func windowRollouts(task *probe.Task, data *emulator.Data, predict probe.Predictor) ([]float64, error) {
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

// referenceFree runs the true system with zero input from the validation
// trials' first states, sampled like the data, and analyses it as the
// emulator's free runs are.
func referenceFree(name string, task *probe.Task, data *emulator.Data, seconds float64) (*probe.Cycle, error) {
	sys, _, err := probeSystem(name)
	if err != nil {
		return nil, err
	}
	if sys.StateSize() != task.TargetSize || sys.InputSize() != task.InputSize {
		return nil, usageErrorf("--system %s has %d inputs and %d states, the data %d and %d", name, sys.InputSize(), sys.StateSize(), task.InputSize, task.TargetSize)
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

func printEmulatorTable(w io.Writer, res *EvalEmulatorResult) error {
	trials := fmt.Sprint(res.ValTrials)
	if len(res.ValTrials) > 12 {
		// The whole list is in --json; a table header needs only its size.
		trials = fmt.Sprintf("%s ...] (%d trials)", strings.TrimSuffix(fmt.Sprint(res.ValTrials[:6]), "]"), len(res.ValTrials))
	}
	fmt.Fprintf(w, "validation trials %s of %s; NRMSE per target (%s)\n", trials, res.Data, strings.Join(res.TargetNames, ", "))
	multi := false
	for _, r := range res.Results {
		multi = multi || r.Model != res.Results[0].Model
	}
	label := func(path string) string {
		if multi { // several runs' model.safetensors
			return filepath.Join(filepath.Base(filepath.Dir(path)), filepath.Base(path))
		}
		return filepath.Base(path)
	}
	width := 22
	for _, r := range res.Results {
		width = max(width, len(label(r.Model)))
	}
	for _, r := range res.Results {
		name := r.Network
		if r.Timesteps > 0 {
			name += " T=" + strconv.Itoa(r.Timesteps)
		}
		if r.Levels > 0 {
			name += " L=" + strconv.Itoa(r.Levels)
		}
		what := "sequence"
		if r.Task == string(probe.ForwardTask) {
			what = "one-step (change)"
		}
		line := fmt.Sprintf("%-*s %-12s %s %s", width, label(r.Model), name, what, fmtVec(r.OneStep))
		if r.WindowRollout != nil {
			line += "  window rollout " + fmtVec(r.WindowRollout)
		}
		if r.Rollout1s != nil {
			line += "  rollout 1s " + fmtVec(r.Rollout1s) + fmt.Sprintf("  rollout %gs ", res.RolloutS) + fmtVec(r.RolloutFull)
		}
		if r.Free != nil {
			line += fmt.Sprintf("  free: period %.4f s amplitude %.4f (cycles %d, failures %d)", r.Free.Period, r.Free.Amplitude, r.Free.Cycles, r.FreeFailures)
		}
		if r.SpikesPerSample > 0 {
			line += fmt.Sprintf("  spikes/sample %.0f", r.SpikesPerSample)
		}
		fmt.Fprintln(w, line)
	}
	if res.Reference != nil {
		fmt.Fprintf(w, "reference system, free: period %.4f s amplitude %.4f\n", res.Reference.Period, res.Reference.Amplitude)
	}
	return nil
}

func fmtVec(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = strconv.FormatFloat(x, 'f', 4, 64)
	}
	return "[" + strings.Join(parts, " ") + "]"
}
