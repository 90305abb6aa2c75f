package workflow

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"

	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/learn"
)

// Files of an e-prop run directory.
const (
	EpropModelFile      = "model.eprop.safetensors"
	EpropCheckpointFile = "checkpoint.npz"
	EpropConfigFile     = "config.json"
	EpropMetricsFile    = "metrics.csv"
	EpropCurveFile      = "learning_curve.png"
	EpropRasterFile     = "raster.png"
)

// EpropOptions is an e-prop training run on evidence accumulation in the
// directory Out. Config.Eprop.LossWindow is set to the task's recall steps.
// With Resume the run continues from Out's config.json and checkpoint.npz:
// only Config.Iterations (and Config.Eprop.Workers, which changes no
// result) are taken from Config.
type EpropOptions struct {
	Config learn.EvidenceRunConfig
	Task   string
	// EvalTrials fresh trials are evaluated at every checkpoint, one every
	// CheckpointEvery iterations and at the end.
	EvalTrials      int
	CheckpointEvery int
	Out             string
	Resume, Force   bool
}

// EpropResult is the result of a run (`train eprop --json`).
type EpropResult struct {
	Task               string  `json:"task"`
	Seed               uint64  `json:"seed"`
	Iterations         int     `json:"iterations"`
	Batch              int     `json:"batch"`
	Neurons            int     `json:"neurons"`
	FinalLoss          float64 `json:"final_loss"`
	FinalBatchAccuracy float64 `json:"final_batch_accuracy"`
	EvalTrials         int     `json:"eval_trials"`
	EvalAccuracy       float64 `json:"eval_accuracy"`
	EvalLoss           float64 `json:"eval_loss"`
	SpikesPerTrial     float64 `json:"spikes_per_trial"`
	SynOpsPerTrial     float64 `json:"synops_per_trial"`
	MsPerIteration     float64 `json:"ms_per_iteration"`
	TrainWallS         float64 `json:"train_wall_s"`
	ResumedAt          int     `json:"resumed_at,omitempty"`
	PeakHeapMiB        float64 `json:"peak_heap_mib"`
	Gradient           string  `json:"gradient"`
	Out                string  `json:"out"`
}

// EpropRunConfig is config.json: the run's settings and the job's own.
type EpropRunConfig struct {
	learn.EvidenceRunConfig
	EvalTrials      int `json:"eval_trials"`
	CheckpointEvery int `json:"checkpoint_every"`
}

// EpropEval is an evaluation on fresh trials made at a checkpoint.
type EpropEval struct {
	Iteration int
	Accuracy  float64
}

// EpropStatus is reported after every iteration. At a checkpoint
// (Checkpoint) FreshAccuracy holds the evaluation on EvalTrials fresh
// trials and MsPerIteration the mean training time since the start (or
// the resumption).
type EpropStatus struct {
	Iteration, Iterations int
	Record                learn.IterationRecord
	Checkpoint            bool
	FreshAccuracy         float64
	EvalTrials            int
	MsPerIteration        float64
}

// EpropJob is a run ready to train: fresh (its directory and config.json
// written) or resumed from its checkpoint.
type EpropJob struct {
	opts  EpropOptions
	run   *learn.EvidenceRun
	evals []EpropEval
	// ResumedAt is the number of iterations done before this process.
	ResumedAt int
}

// Iterations is the number of iterations the run ends at.
func (j *EpropJob) Iterations() int { return j.run.Config.Iterations }

// StartEprop prepares the run of opts: a fresh run checks its settings
// and refuses a directory holding one unless Force (RunExistsError); a
// resumed one reads the directory (ResumeErrors) and refuses fewer
// iterations than it has done.
func StartEprop(opts EpropOptions) (*EpropJob, error) {
	cfg := opts.Config
	cfg.Eprop.LossWindow = cfg.Task.RecallSteps
	switch {
	case opts.Task != "evidence-accumulation":
		return nil, invalidf("{Task} %q: the only task is evidence-accumulation", opts.Task)
	case opts.EvalTrials < 1 || opts.EvalTrials > 1<<16:
		return nil, invalidf("{EvalTrials} %d: want 1 to %d", opts.EvalTrials, 1<<16)
	case opts.CheckpointEvery < 1:
		return nil, invalidf("{CheckpointEvery} %d: want at least 1", opts.CheckpointEvery)
	}
	if opts.Resume {
		run, evals, saved, err := resumeEpropRun(opts.Out, cfg.Iterations, cfg.Eprop.Workers)
		if err != nil {
			return nil, err
		}
		opts.EvalTrials, opts.CheckpointEvery = saved.EvalTrials, saved.CheckpointEvery
		opts.Config = run.Config
		return &EpropJob{opts: opts, run: run, evals: evals, ResumedAt: run.Iteration}, nil
	}
	if err := cfg.Validate(); err != nil {
		return nil, &OptionError{Invalid: true, Err: err}
	}
	if _, err := os.Stat(filepath.Join(opts.Out, EpropConfigFile)); err == nil && !opts.Force {
		return nil, &RunExistsError{opts.Out, EpropConfigFile}
	}
	run, err := learn.NewEvidenceRun(cfg)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.Out, 0o755); err != nil {
		return nil, err
	}
	if err := WriteJSONFile(filepath.Join(opts.Out, EpropConfigFile), EpropRunConfig{cfg, opts.EvalTrials, opts.CheckpointEvery}); err != nil {
		return nil, err
	}
	opts.Config = cfg
	return &EpropJob{opts: opts, run: run}, nil
}

// Train runs the job to its last iteration, writing a checkpoint (and
// metrics.csv) every CheckpointEvery iterations, then the model, the
// learning curve, the raster and the last checkpoint.
func (j *EpropJob) Train(report func(EpropStatus)) (EpropResult, error) {
	run, opts := j.run, j.opts
	cfg := run.Config
	trainSeconds := 0.0
	var peak runtime.MemStats
	for run.Iteration < cfg.Iterations {
		rec, err := run.Step()
		if err != nil {
			return EpropResult{}, err
		}
		trainSeconds += rec.Seconds
		s := EpropStatus{Iteration: run.Iteration, Iterations: cfg.Iterations, Record: rec, EvalTrials: opts.EvalTrials}
		if run.Iteration%opts.CheckpointEvery == 0 || run.Iteration == cfg.Iterations {
			res, err := run.EvaluateFresh(opts.EvalTrials)
			if err != nil {
				return EpropResult{}, err
			}
			j.evals = append(j.evals, EpropEval{run.Iteration, res.Accuracy})
			if err := saveEpropCheckpoint(opts.Out, run, j.evals); err != nil {
				return EpropResult{}, err
			}
			s.Checkpoint, s.FreshAccuracy = true, res.Accuracy
			s.MsPerIteration = 1000 * trainSeconds / float64(run.Iteration-j.ResumedAt)
		}
		report(s)
	}
	runtime.ReadMemStats(&peak)
	final, err := run.EvaluateFresh(opts.EvalTrials)
	if err != nil {
		return EpropResult{}, err
	}
	if err := writeEpropOutputs(opts.Out, run, j.evals); err != nil {
		return EpropResult{}, err
	}
	if err := saveEpropCheckpoint(opts.Out, run, j.evals); err != nil {
		return EpropResult{}, err
	}
	res := EpropResult{
		Task: opts.Task, Seed: cfg.Seed, Iterations: run.Iteration, Batch: cfg.Batch, Neurons: run.Trainer.Net.Neurons,
		EvalTrials: opts.EvalTrials, EvalAccuracy: final.Accuracy, EvalLoss: final.Loss,
		SpikesPerTrial: float64(final.Spikes) / float64(opts.EvalTrials), SynOpsPerTrial: float64(final.SynOps) / float64(opts.EvalTrials),
		TrainWallS: trainSeconds, ResumedAt: j.ResumedAt, PeakHeapMiB: float64(peak.HeapSys) / (1 << 20), Out: opts.Out,
		Gradient: string(cfg.Eprop.Gradient),
	}
	if n := run.Iteration - j.ResumedAt; n > 0 {
		res.MsPerIteration = 1000 * trainSeconds / float64(n)
	}
	if h := run.History; len(h) > 0 {
		res.FinalLoss, res.FinalBatchAccuracy = h[len(h)-1].Loss, h[len(h)-1].Accuracy
	}
	return res, nil
}

// WriteText writes the result for people.
func (res EpropResult) WriteText(w io.Writer) error {
	_, err := fmt.Fprintf(w,
		"seed %d: %d iterations of batch %d, %.1f ms/iteration, train wall %.1f s; recall accuracy on %d fresh trials %.3f (loss %.4f), %.0f spikes and %.0f SynOps per trial\noutputs in %s\n",
		res.Seed, res.Iterations, res.Batch, res.MsPerIteration, res.TrainWallS, res.EvalTrials, res.EvalAccuracy, res.EvalLoss,
		res.SpikesPerTrial, res.SynOpsPerTrial, res.Out)
	return err
}

// writeBytesAtomic writes b to path by the output rule (formats.WriteFileAtomic).
func writeBytesAtomic(path string, b []byte) error {
	return formats.WriteFileAtomic(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}
