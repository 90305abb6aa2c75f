package main

import (
	"encoding/json"
	"fmt"

	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/learn"
)

// evalRecurrentResult is the --json document of `eval` on a recurrent
// (e-prop) model file.
type evalRecurrentResult struct {
	Model          string  `json:"model"`
	Task           string  `json:"task"`
	Seed           uint64  `json:"seed"`
	Trials         int     `json:"trials"`
	Accuracy       float64 `json:"accuracy"`
	Loss           float64 `json:"loss"`
	SpikesPerTrial float64 `json:"spikes_per_trial"`
	SynOpsPerTrial float64 `json:"synops_per_trial"`
}

// runEvalRecurrent scores a recurrent model on --episodes fresh trials of
// the task it was trained on (the file's task settings), drawn from --seed
// as `train eprop` draws its evaluation trials.
func runEvalRecurrent(opts *EvalOptions) error {
	if opts.InitStates != "" {
		return usageErrorf("--init-states: %s is a recurrent evidence-accumulation model; it plays trials, not CartPole episodes", opts.Model)
	}
	net, feedback, meta, err := formats.LoadRecurrent(opts.Model)
	if err != nil {
		return err
	}
	cfg := learn.DefaultEvidenceRun()
	cfg.Seed = opts.Seed
	task := &cfg.Task
	for name, dst := range map[string]*int{"cues": &task.Cues, "cue_steps": &task.CueSteps, "spacing_steps": &task.SpacingSteps,
		"background_steps": &task.BackgroundSteps, "recall_steps": &task.RecallSteps, "lif": &cfg.Network.LIF, "alif": &cfg.Network.ALIF} {
		if v, ok := meta.Task[name]; ok {
			*dst = int(v)
		}
	}
	for name, dst := range map[string]*float64{"spike_prob": &task.SpikeProb, "minority_prob": &task.MinorityProb} {
		if v, ok := meta.Task[name]; ok {
			*dst = v
		}
	}
	task.Inputs = net.Inputs
	cfg.Eprop.LossWindow = task.RecallSteps
	if feedback == nil {
		feedback = make([]float64, net.Neurons*net.Outputs) // evaluation uses no feedback
	}
	run, err := learn.ResumeEvidenceRun(cfg, net, feedback, 0)
	if err != nil {
		return fmt.Errorf("%s: %w", opts.Model, err)
	}
	res, err := run.EvaluateFresh(opts.Episodes)
	if err != nil {
		return err
	}
	out := evalRecurrentResult{Model: opts.Model, Task: "evidence-accumulation", Seed: opts.Seed, Trials: opts.Episodes,
		Accuracy: res.Accuracy, Loss: res.Loss, SpikesPerTrial: float64(res.Spikes) / float64(opts.Episodes),
		SynOpsPerTrial: float64(res.SynOps) / float64(opts.Episodes)}
	if opts.JSON {
		return json.NewEncoder(opts.IO.Out).Encode(out)
	}
	_, err = fmt.Fprintf(opts.IO.Out, "%s on evidence accumulation, %d fresh trials (seed %d): recall accuracy %.3f (loss %.4f), %.0f spikes and %.0f SynOps per trial\n",
		opts.Model, out.Trials, out.Seed, out.Accuracy, out.Loss, out.SpikesPerTrial, out.SynOpsPerTrial)
	return err
}
