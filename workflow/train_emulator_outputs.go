package workflow

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spikebridge/spikebridge/emulator"
	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/probe"
	"github.com/spikebridge/spikebridge/report"
	"github.com/spikebridge/spikebridge/train"
)

// writeEmulatorMetrics writes metrics.csv: one row per epoch.
func writeEmulatorMetrics(w io.Writer, history []train.EpochStats) error {
	if _, err := io.WriteString(w, "epoch,train_loss,val_loss\n"); err != nil {
		return err
	}
	for _, h := range history {
		line := strconv.Itoa(h.Epoch) + "," + strconv.FormatFloat(h.TrainLoss, 'g', -1, 64) + "," + strconv.FormatFloat(h.ValLoss, 'g', -1, 64) + "\n"
		if _, err := io.WriteString(w, line); err != nil {
			return err
		}
	}
	return nil
}

// writeEmulatorTraces plots prediction and truth on the first validation
// window (forward task: the driven free-running rollout over the window).
func writeEmulatorTraces(path string, m *emulator.Model, data *emulator.Data) error {
	traces, err := emulatorTraces(m, m.Predictor(), data, data.Split.Val[0])
	if err != nil {
		return err
	}
	return formats.WriteFileAtomic(path, func(w io.Writer) error { return report.WriteEmulatorTraces(w, traces) })
}

// emulatorTraces returns predicted and true targets over one window.
func emulatorTraces(m *emulator.Model, predict probe.Predictor, data *emulator.Data, win probe.Window) (report.EmulatorTraces, error) {
	task := &m.Doc.Task
	p := data.Probe
	tr := report.EmulatorTraces{Dt: p.Dt, Names: task.TargetNames, Steps: task.Window,
		Title: fmt.Sprintf("%s %s emulator, validation trial %d from step %d", m.Doc.Kind, task.Kind, win.Trial, win.Start)}
	truth := p.Targets[(win.Trial*p.Steps+win.Start)*p.TargetSize : (win.Trial*p.Steps+win.Start+task.Window)*p.TargetSize]
	tr.True = append([]float64(nil), truth...)
	switch task.Kind {
	case probe.ForwardTask:
		tr.Title += " (free-running rollout under the recorded inputs)"
		inputs := p.Inputs[(win.Trial*p.Steps+win.Start)*p.InputSize:]
		roll, err := task.Rollout(predict, p.Target(win.Trial, win.Start), inputs, task.Window-1)
		if err != nil && roll == nil {
			return tr, err
		}
		tr.Predicted = roll
	default:
		s, err := task.Samples(p, []probe.Window{win})
		if err != nil {
			return tr, err
		}
		x, _ := s.Row(0)
		y := make([]float32, s.Out)
		if err := predict(y, x); err != nil {
			return tr, err
		}
		task.Absolute(y, x)
		tr.Predicted = make([]float64, len(y))
		for i, v := range y {
			d := i % task.TargetSize
			tr.Predicted[i] = float64(v)*task.Norm.TargetStd[d] + task.Norm.TargetMean[d]
		}
	}
	return tr, nil
}

// WriteText writes the result for people.
func (out TrainEmulatorResult) WriteText(w io.Writer) error {
	what := "validation NRMSE"
	if out.Task == string(probe.ForwardTask) {
		what = "validation one-step NRMSE (of the change)"
	}
	if out.SkippedMissingInput+out.SkippedMissingTarget > 0 {
		fmt.Fprintf(w, "%s: %d samples left out because a state or input they start from is missing (NaN), %d because all their targets are\n",
			out.Source, out.SkippedMissingInput, out.SkippedMissingTarget)
	}
	_, err := fmt.Fprintf(w, "%s %s emulator: best epoch %d of %d, validation MSE %.4g (standardised), %s %s; wrote %s\n",
		out.Kind, out.Task, out.BestEpoch, out.Epochs, out.ValLoss, what, formatNRMSE(out.TargetNames, out.ValNRMSE), out.Out)
	return err
}

// formatNRMSE lists NRMSE values with their target names.
func formatNRMSE(names []string, v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		name := strconv.Itoa(i)
		if i < len(names) {
			name = names[i]
		}
		parts[i] = fmt.Sprintf("%s %.4f", name, x)
	}
	return strings.Join(parts, ", ")
}
