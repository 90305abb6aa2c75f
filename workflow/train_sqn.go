package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/report"
	"github.com/spikebridge/spikebridge/snn"
	"github.com/spikebridge/spikebridge/train"
)

// Files of an SQN run directory (metrics, curve, config and checkpoint are
// named as in a DQN run).
const (
	SQNModelFile = "model.snn.safetensors"
	SQNFinalFile = "final.snn.safetensors"
)

// TrainSQNOptions says what spiking Q-network to train and where the run
// directory is; the fields are TrainDQNOptions' (Set names Config's JSON
// settings, the DQN ones and timesteps, threshold, leak, surrogate,
// surrogate_k, grad_clip).
type TrainSQNOptions struct {
	Config        train.SQNConfig
	Threads       int
	Out           string
	Resume, Force bool
	Set           map[string]bool
	Progress      TrainProgress
}

// TrainSQN trains (or resumes) the run in opts.Out until ctx is done or its
// steps are, and writes the kept and final networks, metrics, learning
// curve, config and checkpoint; it returns the result and the config the
// run used.
func TrainSQN(ctx context.Context, opts TrainSQNOptions) (train.SQNResult, train.SQNConfig, error) {
	ckptPath := filepath.Join(opts.Out, DQNCheckpointFile)
	tr, cfg, err := startSQN(opts, ckptPath)
	if err != nil {
		return train.SQNResult{}, cfg, err
	}
	startStep := tr.Step()
	wall, err := DriveTrainer(ctx, "train sqn", ckptPath, int64(cfg.Steps), tr, opts.Threads, opts.Progress)
	if err != nil {
		return train.SQNResult{}, cfg, err
	}
	res, kept, final, err := tr.Finish(wall, tr.Step()-startStep)
	if err != nil {
		return train.SQNResult{}, cfg, err
	}
	if opts.Resume {
		res.ResumedAt = startStep
	}
	if err := writeSQNOutputs(opts.Out, cfg, tr, kept, final); err != nil {
		return train.SQNResult{}, cfg, err
	}
	return res, cfg, tr.SaveCheckpoint(ckptPath)
}

// startSQN resumes the run in opts.Out or starts a fresh one there.
func startSQN(opts TrainSQNOptions, ckptPath string) (*train.SQNTrainer, train.SQNConfig, error) {
	run := runStart[train.SQNConfig, *train.SQNTrainer]{
		Dir: opts.Out, Verb: "train sqn", ModelFile: SQNModelFile, Checkpoint: ckptPath, Resume: opts.Resume, Force: opts.Force,
		ReadConfig: func(dir string, given train.SQNConfig) (train.SQNConfig, error) {
			return resumeSQNConfig(dir, given, opts.Set)
		},
		Fresh:   train.NewSQNTrainer,
		Restore: train.ResumeSQNTrainer,
	}
	return run.start(opts.Config)
}

// resumeSQNConfig is the run in dir's config.json with the settings named
// in set taken from given (the DQN ones as ResumeConfig takes them).
func resumeSQNConfig(dir string, given train.SQNConfig, set map[string]bool) (train.SQNConfig, error) {
	path := filepath.Join(dir, DQNConfigFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return given, &ResumeError{err}
	}
	var cfg train.SQNConfig
	if err := json.Unmarshal(data, &cfg); err != nil {
		return given, resumeErrorf("%s: %w", path, err)
	}
	if cfg.Config, err = ResumeConfig(dir, given.Config, set); err != nil {
		return cfg, err
	}
	for name, apply := range map[string]func(){
		"timesteps": func() { cfg.Timesteps = given.Timesteps }, "threshold": func() { cfg.Threshold = given.Threshold },
		"leak": func() { cfg.Leak = given.Leak }, "surrogate": func() { cfg.Surrogate = given.Surrogate },
		"surrogate_k": func() { cfg.SurrogateK = given.SurrogateK }, "grad_clip": func() { cfg.GradClip = given.GradClip },
	} {
		if set[name] {
			apply()
		}
	}
	if err := cfg.Validate(); err != nil {
		return cfg, &OptionError{Invalid: true, Err: err}
	}
	return cfg, nil
}

// WriteSQNText writes the result of the run in dir for people.
func WriteSQNText(w io.Writer, res train.SQNResult, cfg train.SQNConfig, dir string) error {
	_, err := fmt.Fprintf(w,
		"seed %d: %.0f steps/s, %.2f ms/update, train wall %.1f s, episodes %d, solved_step(mean%d>=%g) = %s, "+
			"greedy eval of the kept network in snn/ at T=%d over %d eps: mean %.1f min %.0f max %.0f "+
			"(%.1f spikes, %.0f SynOps per decision)\noutputs in %s\n",
		res.Seed, res.StepsPerS, res.MsPerUpdate, res.TrainWallS, res.Episodes, cfg.Window, res.SolveThreshold, solvedText(res.SolvedStep),
		res.Timesteps, res.EvalEpisodes, res.EvalMean, res.EvalMin, res.EvalMax, res.SpikesPerDecide, res.SynOpsPerDecide, dir)
	return err
}

// writeSQNOutputs writes the kept and final networks, metrics.csv and the
// learning curve.
func writeSQNOutputs(dir string, cfg train.SQNConfig, tr *train.SQNTrainer, kept, final *snn.Network) error {
	meta := formats.SNNMeta{
		Input:  formats.IOSpec{Size: 4, Meaning: "observation", Names: []string{"x", "x_dot", "theta", "theta_dot"}},
		Output: formats.IOSpec{Size: 2, Meaning: "q-values", Names: []string{"push_left", "push_right"}},
	}
	meta.Provenance = formats.Provenance{Source: "sqn", Tool: "spikebridge train sqn", Settings: ConfigSettings(cfg.Config)}
	for k, v := range map[string]string{"timesteps": strconv.Itoa(cfg.Timesteps), "threshold": fmt.Sprint(cfg.Threshold),
		"leak": fmt.Sprint(cfg.Leak), "surrogate": strconv.Quote(cfg.Surrogate), "surrogate_k": fmt.Sprint(cfg.SurrogateK),
		"grad_clip": fmt.Sprint(cfg.GradClip)} {
		meta.Provenance.Settings[k] = v
	}
	if err := formats.SaveSNN(filepath.Join(dir, SQNModelFile), kept, meta); err != nil {
		return err
	}
	if err := formats.SaveSNN(filepath.Join(dir, SQNFinalFile), final, meta); err != nil {
		return err
	}
	rows := tr.Metrics()
	if err := formats.WriteFileAtomic(filepath.Join(dir, DQNMetricsFile), func(w io.Writer) error {
		return train.WriteMetricsCSV(w, rows)
	}); err != nil {
		return err
	}
	curve := report.Curve{Title: fmt.Sprintf("spiking Q-network %s, T=%d, seed %d", cfg.Env, cfg.Timesteps, cfg.Seed), Window: cfg.Window}
	for _, r := range rows {
		if !math.IsNaN(r.Eval) {
			curve.EvalSteps = append(curve.EvalSteps, float64(r.Step))
			curve.EvalScores = append(curve.EvalScores, r.Eval)
		} else {
			curve.EpisodeSteps = append(curve.EpisodeSteps, float64(r.Step))
			curve.Returns = append(curve.Returns, r.Return)
		}
	}
	return formats.WriteFileAtomic(filepath.Join(dir, DQNCurveFile), func(w io.Writer) error {
		return report.WriteLearningCurve(w, curve)
	})
}
