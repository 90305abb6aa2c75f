package workflow

import (
	"fmt"
	"io"
	"path/filepath"
	"strconv"

	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/learn"
	"github.com/spikebridge/spikebridge/report"
)

// writeEpropOutputs writes the model file, the learning curve and the
// raster of one fresh trial.
func writeEpropOutputs(dir string, run *learn.EvidenceRun, evals []EpropEval) error {
	cfg := run.Config
	tr := run.Trainer
	meta := formats.RecurrentMeta{
		Input:  formats.IOSpec{Meaning: "spikes: left cue, right cue, recall, background populations"},
		Output: formats.IOSpec{Meaning: "class-probabilities", Names: []string{"left", "right"}},
		Provenance: formats.Provenance{Tool: "spikebridge train eprop", Source: "evidence-accumulation",
			Settings: map[string]string{"seed": strconv.FormatUint(cfg.Seed, 10), "iterations": strconv.Itoa(run.Iteration),
				"batch": strconv.Itoa(cfg.Batch), "learning_rate": fmt.Sprint(cfg.Eprop.LearningRate), "reg": fmt.Sprint(cfg.Eprop.RegStrength), "gradient": string(cfg.Eprop.Gradient)}},
		Task: map[string]float64{"cues": float64(cfg.Task.Cues), "cue_steps": float64(cfg.Task.CueSteps), "spacing_steps": float64(cfg.Task.SpacingSteps),
			"background_steps": float64(cfg.Task.BackgroundSteps), "recall_steps": float64(cfg.Task.RecallSteps), "lif": float64(cfg.Network.LIF), "alif": float64(cfg.Network.ALIF),
			"spike_prob": cfg.Task.SpikeProb, "minority_prob": cfg.Task.MinorityProb},
	}
	if err := formats.SaveRecurrent(filepath.Join(dir, EpropModelFile), tr.Net, tr.Feedback, meta); err != nil {
		return err
	}
	curve := report.EpropCurve{Title: fmt.Sprintf("e-prop, evidence accumulation, batch %d, seed %d", cfg.Batch, cfg.Seed), Window: 10}
	for _, h := range run.History {
		curve.Loss = append(curve.Loss, h.Loss)
		curve.Accuracy = append(curve.Accuracy, h.Accuracy)
	}
	for _, e := range evals {
		curve.EvalIterations = append(curve.EvalIterations, float64(e.Iteration))
		curve.EvalAccuracy = append(curve.EvalAccuracy, e.Accuracy)
	}
	if len(curve.Loss) > 0 {
		if err := formats.WriteFileAtomic(filepath.Join(dir, EpropCurveFile), func(w io.Writer) error { return report.WriteEpropCurve(w, curve) }); err != nil {
			return err
		}
	}
	inputs, spikes, class, err := run.RasterTrial()
	if err != nil {
		return err
	}
	var points []report.Spike
	in := cfg.Task.Inputs
	for i, v := range inputs {
		if v != 0 {
			points = append(points, report.Spike{Step: i / in, Layer: 0, Neuron: i % in})
		}
	}
	for _, s := range spikes {
		layer, neuron := 1, s[1]
		if neuron >= cfg.Network.LIF {
			layer, neuron = 2, neuron-cfg.Network.LIF
		}
		points = append(points, report.Spike{Step: s[0], Layer: layer, Neuron: neuron})
	}
	title := fmt.Sprintf("one fresh trial (class %s), after %d iterations", []string{"left", "right"}[class], run.Iteration)
	return formats.WriteFileAtomic(filepath.Join(dir, EpropRasterFile), func(w io.Writer) error {
		return report.WriteSpikeRaster(w, title, points, []int{in, cfg.Network.LIF, cfg.Network.ALIF}, []string{"inputs", "LIF", "ALIF"}, cfg.Task.Steps())
	})
}
