package workflow

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spikebridge/spikebridge/convert"
	"github.com/spikebridge/spikebridge/emulator"
	"github.com/spikebridge/spikebridge/env"
	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/probe"
	"github.com/spikebridge/spikebridge/report"
)

// EvalEmulatorOptions evaluates emulator files on the validation trials
// of the probe file Data (the split stored in each model).
type EvalEmulatorOptions struct {
	Models []string
	Data   string
	// Rollout is the seconds of free-running rollout of forward models (0 = none).
	Rollout float64
	// Timesteps are the T of a rate emulator's converted SNN (none = no conversion).
	Timesteps []int
	// System names the built-in true system (env.ProbeSystem) run free for
	// reference beside the forward models' free runs (Rollout > 0).
	System string
	// Plot, when set, is the PNG of every result's NRMSE per target.
	Plot string
	// Conversion settings of the rate emulator's SNN.
	Norm        string
	Percentile  float64
	Calibration int
}

// EvalEmulatorResult is the result of an evaluation (`eval-emulator --json`).
type EvalEmulatorResult struct {
	Data        string          `json:"data"`
	TargetNames []string        `json:"target_names"`
	ValTrials   []int           `json:"val_trials"`
	RolloutS    float64         `json:"rollout_s,omitempty"`
	Reference   *probe.Cycle    `json:"reference_free,omitempty"`
	Results     []emulator.Eval `json:"results"`
}

// Check refuses a rollout that is not a number of seconds and invalid T.
func (o EvalEmulatorOptions) Check() error {
	if o.Rollout < 0 || math.IsNaN(o.Rollout) || math.IsInf(o.Rollout, 0) {
		return invalidf("{Rollout} %v: want a number of seconds >= 0", o.Rollout)
	}
	if len(o.Timesteps) > 0 {
		if err := convert.CheckTimesteps(o.Timesteps); err != nil {
			return &OptionError{Invalid: true, Err: err}
		}
	}
	return nil
}

// EvalEmulator evaluates every model of o (emulator.Evaluate) and the
// reference system, and writes the plot.
func EvalEmulator(o EvalEmulatorOptions) (EvalEmulatorResult, error) {
	res := EvalEmulatorResult{Data: o.Data, RolloutS: o.Rollout}
	if err := o.Check(); err != nil {
		return res, err
	}
	for _, path := range o.Models {
		m, err := emulator.Load(path)
		if err != nil {
			return res, err
		}
		data, err := emulator.LoadSamples(o.Data, &m.Doc.Task, m.Doc.Windows)
		if err != nil {
			return res, err
		}
		task := &m.Doc.Task
		res.TargetNames, res.ValTrials = task.TargetNames, data.Split.ValTrials
		evals, err := emulator.Evaluate(path, m, data, emulator.EvalOptions{Timesteps: o.Timesteps, Norm: o.Norm,
			Percentile: o.Percentile, Calibration: o.Calibration, Rollout: o.Rollout})
		if err != nil {
			return res, err
		}
		res.Results = append(res.Results, evals...)
		if o.Rollout > 0 && o.System != "" && task.Kind == probe.ForwardTask && res.Reference == nil {
			if res.Reference, err = referenceFree(o, task, data); err != nil {
				return res, err
			}
		}
	}
	if o.Plot != "" {
		if err := writeEmulatorPlot(o, &res); err != nil {
			return res, err
		}
	}
	return res, nil
}

// referenceFree runs the reference system free as the forward models are.
func referenceFree(o EvalEmulatorOptions, task *probe.Task, data *emulator.Data) (*probe.Cycle, error) {
	sys, _, ok := env.ProbeSystem(o.System)
	if !ok {
		return nil, invalidf("{System} %q: want vanderpol or arm", o.System)
	}
	if sys.StateSize() != task.TargetSize || sys.InputSize() != task.InputSize {
		return nil, invalidf("{System} %s has %d inputs and %d states, the data %d and %d", o.System, sys.InputSize(), sys.StateSize(), task.InputSize, task.TargetSize)
	}
	return emulator.ReferenceFree(sys, o.System, task, data, o.Rollout)
}

// writeEmulatorPlot draws every result's NRMSE per target into opts.Plot.
func writeEmulatorPlot(opts EvalEmulatorOptions, res *EvalEmulatorResult) error {
	var series []report.NRMSESeries
	rolled := false
	for _, r := range res.Results {
		label := networkName(r)
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
	return formats.WriteFileAtomic(opts.Plot, func(w io.Writer) error {
		return report.WriteNRMSEPlot(w, title, res.TargetNames, series, 0.1)
	})
}

// WriteTable writes the result as a table for people: one line per
// network, NRMSE per target.
func (res *EvalEmulatorResult) WriteTable(w io.Writer) error {
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
		name := networkName(r)
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

// networkName names an evaluated network: ann, snn T=8, ann L=8, ...
func networkName(r emulator.Eval) string {
	name := r.Network
	if r.Timesteps > 0 {
		name += " T=" + strconv.Itoa(r.Timesteps)
	}
	if r.Levels > 0 {
		name += " L=" + strconv.Itoa(r.Levels)
	}
	return name
}

// fmtVec formats a vector with 4 decimals.
func fmtVec(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = strconv.FormatFloat(x, 'f', 4, 64)
	}
	return "[" + strings.Join(parts, " ") + "]"
}
