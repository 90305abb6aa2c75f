package workflow

import (
	"fmt"
	"io"
	"path/filepath"
	"strconv"

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
	// SystemName names the true system, run free for reference beside the
	// forward models' free runs (Rollout > 0); System returns it, and is
	// only called when a forward model needs it.
	SystemName string
	System     func() (env.DrivenSystem, error)
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

// SystemMismatchError refuses a reference system whose sizes are not the
// data's.
type SystemMismatchError struct {
	System                 string
	Inputs, States         int // the system's
	DataInputs, DataStates int
}

func (e *SystemMismatchError) Error() string {
	return fmt.Sprintf("system %s has %d inputs and %d states, the data %d and %d", e.System, e.Inputs, e.States, e.DataInputs, e.DataStates)
}

// EvalEmulator evaluates every model of o (emulator.Evaluate) and the
// reference system, and writes the plot.
func EvalEmulator(o EvalEmulatorOptions) (EvalEmulatorResult, error) {
	res := EvalEmulatorResult{Data: o.Data, RolloutS: o.Rollout}
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
		if o.Rollout > 0 && o.SystemName != "" && task.Kind == probe.ForwardTask && res.Reference == nil {
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
	sys, err := o.System()
	if err != nil {
		return nil, err
	}
	if sys.StateSize() != task.TargetSize || sys.InputSize() != task.InputSize {
		return nil, &SystemMismatchError{o.SystemName, sys.InputSize(), sys.StateSize(), task.InputSize, task.TargetSize}
	}
	return emulator.ReferenceFree(sys, o.SystemName, task, data, o.Rollout)
}

// writeEmulatorPlot draws every result's NRMSE per target into opts.Plot.
func writeEmulatorPlot(opts EvalEmulatorOptions, res *EvalEmulatorResult) error {
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
	return formats.WriteFileAtomic(opts.Plot, func(w io.Writer) error {
		return report.WriteNRMSEPlot(w, title, res.TargetNames, series, 0.1)
	})
}
