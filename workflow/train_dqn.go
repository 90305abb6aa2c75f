package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"time"

	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/model"
	"github.com/spikebridge/spikebridge/report"
	"github.com/spikebridge/spikebridge/train"
)

// Files of a DQN run directory (the SQN run shares the checkpoint, config
// and metrics names).
const (
	DQNCheckpointFile = "checkpoint.bin"
	DQNConfigFile     = "config.json"
	DQNModelFile      = "model.safetensors"
	DQNFinalFile      = "final.safetensors"
	DQNMetricsFile    = "metrics.csv"
	DQNCurveFile      = "learning_curve.png"
)

// TrainProgress hears a training loop: Begin with its total steps and the
// steps already done (a resumed run), Step now and then, End after the
// last. A nil TrainProgress hears nothing.
type TrainProgress interface {
	Begin(label string, total, done int64)
	Step(train.Progress)
	End()
}

// TrainDQNOptions says what to train and where the run directory is.
type TrainDQNOptions struct {
	Config train.Config
	// Version v0 or v1 replaces Config.Env's CartPole version ("": keep).
	Version string
	Threads int // GOMAXPROCS during the run (0: as is)
	Out     string
	// Resume continues the run in Out from its checkpoint, with its
	// config.json's settings except those named in Set (Config's JSON
	// names: steps, lr_final, ...), which come from Config. Force starts
	// afresh in a directory that holds a run.
	Resume, Force bool
	Set           map[string]bool
	Progress      TrainProgress
}

// InterruptedError is a training stopped by its context: its checkpoint
// holds the run so far.
type InterruptedError struct {
	Step       int64
	Checkpoint string
}

func (e *InterruptedError) Error() string {
	return fmt.Sprintf("interrupted at step %d; checkpoint written to %s", e.Step, e.Checkpoint)
}

func (e *InterruptedError) Unwrap() error { return context.Canceled }

// TrainDQN trains (or resumes) the run in opts.Out until ctx is done or its
// steps are, and writes model, final network, metrics, learning curve,
// config and checkpoint; it returns the result and the config the run used.
func TrainDQN(ctx context.Context, opts TrainDQNOptions) (train.Result, train.Config, error) {
	cfg := opts.Config
	if opts.Version != "" {
		if opts.Version != "v0" && opts.Version != "v1" {
			return train.Result{}, cfg, invalidf("{Version} must be v0 or v1, got %q", opts.Version)
		}
		cfg.Env = "cartpole-" + opts.Version
	}
	ckptPath := filepath.Join(opts.Out, DQNCheckpointFile)
	tr, cfg, err := startDQN(opts, cfg, ckptPath)
	if err != nil {
		return train.Result{}, cfg, err
	}
	startStep := tr.Step()
	wall, err := DriveTrainer(ctx, "train dqn", ckptPath, int64(cfg.Steps), tr, opts.Threads, opts.Progress)
	if err != nil {
		return train.Result{}, cfg, err
	}
	res, kept, final, err := tr.Finish(wall, tr.Step()-startStep)
	if err != nil {
		return train.Result{}, cfg, err
	}
	if opts.Resume {
		res.ResumedAt = startStep
	}
	if err := writeDQNOutputs(opts.Out, cfg, tr, kept, final); err != nil {
		return train.Result{}, cfg, err
	}
	// The finished run keeps its checkpoint: its final state, so a later
	// resumption with the same settings finishes at once with the same files.
	return res, cfg, tr.SaveCheckpoint(ckptPath)
}

// WriteDQNText writes the result of the run in dir for people.
func WriteDQNText(w io.Writer, res train.Result, cfg train.Config, dir string) error {
	_, err := fmt.Fprintf(w,
		"seed %d: %.0f steps/s, train wall %.1f s (learning %.0f%% of it), episodes %d, solved_step(mean%d>=%g) = %s, "+
			"greedy eval of the kept network over %d eps: mean %.1f min %.0f max %.0f\noutputs in %s\n",
		res.Seed, res.StepsPerS, res.TrainWallS, 100*res.LearnShare, res.Episodes, cfg.Window, res.SolveThreshold, solvedText(res.SolvedStep),
		res.EvalEpisodes, res.EvalMean, res.EvalMin, res.EvalMax, dir)
	return err
}

// solvedText is a run's solved_step for people: the step, or never.
func solvedText(step *int64) string {
	if step == nil {
		return "never"
	}
	return strconv.FormatInt(*step, 10)
}

// startDQN resumes the run in opts.Out or starts a fresh one there.
func startDQN(opts TrainDQNOptions, cfg train.Config, ckptPath string) (*train.Trainer, train.Config, error) {
	run := runStart[train.Config, *train.Trainer]{
		Dir: opts.Out, Verb: "train dqn", ModelFile: DQNModelFile, Checkpoint: ckptPath, Resume: opts.Resume, Force: opts.Force,
		ReadConfig: func(dir string, given train.Config) (train.Config, error) { return ResumeConfig(dir, given, opts.Set) },
		Fresh:      train.NewTrainer,
		Restore:    train.ResumeTrainer,
	}
	return run.start(cfg)
}

// ResumeConfig is the run in dir's config.json with the settings named in
// set (Config's JSON names) taken from flags; the trainer's resumption then
// refuses any mismatch with the checkpoint itself.
func ResumeConfig(dir string, flags train.Config, set map[string]bool) (train.Config, error) {
	path := filepath.Join(dir, DQNConfigFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return flags, &ResumeError{err}
	}
	var saved map[string]json.RawMessage
	var cfg train.Config
	if err := json.Unmarshal(data, &cfg); err != nil {
		return flags, resumeErrorf("%s: %w", path, err)
	}
	given, _ := json.Marshal(flags)
	var values map[string]json.RawMessage
	_ = json.Unmarshal(given, &values)
	_ = json.Unmarshal(data, &saved)
	for name := range set {
		if v, ok := values[name]; ok {
			saved[name] = v
		}
	}
	merged, _ := json.Marshal(saved)
	cfg = train.Config{}
	if err := json.Unmarshal(merged, &cfg); err != nil {
		return cfg, resumeErrorf("%s: %w", path, err)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, &OptionError{Invalid: true, Err: err}
	}
	return cfg, nil
}

// StepTrainer is a training loop DriveTrainer runs (DQN, SQN).
type StepTrainer interface {
	Step() int64
	Run(ctx context.Context, opts train.RunOptions) error
}

// DriveTrainer runs tr to its last step with progress on prog, on threads
// threads (0: as is), checkpointing into ckptPath; a cancelled ctx stops it
// with a checkpoint and an *InterruptedError. It returns the loop's wall time.
func DriveTrainer(ctx context.Context, label, ckptPath string, total int64, tr StepTrainer, threads int, prog TrainProgress) (time.Duration, error) {
	if threads > 0 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(threads))
	}
	run := train.RunOptions{CheckpointPath: ckptPath, ProgressEvery: 500}
	if prog != nil {
		prog.Begin(label, total, tr.Step())
		run.Progress = prog.Step
	}
	start := time.Now()
	err := tr.Run(ctx, run)
	wall := time.Since(start)
	if prog != nil {
		prog.End()
	}
	if errors.Is(err, context.Canceled) {
		return wall, &InterruptedError{Step: tr.Step(), Checkpoint: ckptPath}
	}
	return wall, err
}

func writeDQNOutputs(dir string, cfg train.Config, tr *train.Trainer, kept, final *model.Network) error {
	meta := formats.CartPoleQMeta()
	meta.Provenance = formats.Provenance{Source: "dqn", Tool: "spikebridge train dqn", Settings: ConfigSettings(cfg)}
	if err := formats.SaveModel(filepath.Join(dir, DQNModelFile), kept, meta); err != nil {
		return err
	}
	if err := formats.SaveModel(filepath.Join(dir, DQNFinalFile), final, meta); err != nil {
		return err
	}
	rows := tr.Metrics()
	if err := formats.WriteFileAtomic(filepath.Join(dir, DQNMetricsFile), func(w io.Writer) error {
		return train.WriteMetricsCSV(w, rows)
	}); err != nil {
		return err
	}
	curve := report.Curve{Title: fmt.Sprintf("DQN %s, seed %d", cfg.Env, cfg.Seed), Window: cfg.Window}
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

// ConfigSettings flattens cfg into a model file's provenance settings.
func ConfigSettings(cfg train.Config) map[string]string {
	data, _ := json.Marshal(cfg)
	var m map[string]any
	_ = json.Unmarshal(data, &m)
	out := make(map[string]string, len(m))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v, _ := json.Marshal(m[k])
		out[k] = string(v)
	}
	return out
}
