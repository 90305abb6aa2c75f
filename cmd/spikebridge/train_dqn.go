package main

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

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/model"
	"github.com/spikebridge/spikebridge/report"
	"github.com/spikebridge/spikebridge/train"
)

// Files of a DQN run directory.
const (
	dqnCheckpointFile = "checkpoint.bin"
	dqnConfigFile     = "config.json"
	dqnModelFile      = "model.safetensors"
	dqnFinalFile      = "final.safetensors"
	dqnMetricsFile    = "metrics.csv"
	dqnCurveFile      = "learning_curve.png"
)

// TrainDQNOptions holds the flags of `spikebridge train dqn`.
type TrainDQNOptions struct {
	IO      *IOStreams
	Config  train.Config
	Version string // dqn_torch.py's --version: overrides the env's version when set
	Threads int
	Out     string
	Resume  bool
	Force   bool
	JSON    bool
	// changed lists the flags set on the command line (config names), so
	// --resume can take the rest from the run's config.json.
	changed map[string]bool
	// progressEvery overrides how often plain progress lines appear (tests).
	progressEvery time.Duration
}

// NewCmdTrainDQN parses flags into TrainDQNOptions; runF replaces runTrainDQN in tests.
func NewCmdTrainDQN(ios *IOStreams, runF func(*TrainDQNOptions) error) *cobra.Command {
	opts := &TrainDQNOptions{IO: ios, Config: train.DefaultConfig()}
	c := &opts.Config
	cmd := &cobra.Command{
		Use:   "dqn",
		Short: "Train a DQN agent (Gorgonia) and write model, metrics, learning curve and config",
		Long: `Train a Q-network with DQN. Flags named as in dqn_torch.py take the same values,
so both can be run with identical settings. Defaults differ from dqn_torch.py in
--double (true), --tau (0.005: soft target updates), --lr-final (1e-4),
--keep-best-every (500), --keep-best-episodes (20) and --eval-episodes (100); pass
--double=false --tau 0 --lr-final 1e-3 --keep-best-every 0 --keep-best-episodes 10
--eval-episodes 20 for the reference's settings.

Outputs in --out: model.safetensors (the kept network), final.safetensors (the
last), metrics.csv, learning_curve.png, config.json and checkpoint.bin (for --resume).`,
		Example: "  spikebridge train dqn --env cartpole-v1 --steps 50000 --seed 1 --out runs/dqn-s1",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.changed = map[string]bool{}
			cmd.Flags().Visit(func(f *pflag.Flag) { opts.changed[f.Name] = true })
			if opts.Out == "" {
				return usageErrorf("--out DIR is required")
			}
			if runF != nil {
				return runF(opts)
			}
			return runTrainDQN(opts)
		},
	}
	f := cmd.Flags()
	addDQNFlags(f, c, "")
	f.StringVar(&opts.Version, "version", "", "CartPole version v0 or v1 (as dqn_torch.py; overrides --env's)")
	addRunFlags(f, &opts.Threads, &opts.Out, &opts.Resume, &opts.Force, &opts.JSON, "dqn_torch.py")
	return cmd
}

func runTrainDQN(opts *TrainDQNOptions) error {
	res, cfg, err := trainDQNRun(opts)
	if err != nil {
		return err
	}
	if opts.JSON {
		return json.NewEncoder(opts.IO.Out).Encode(res)
	}
	solved := "never"
	if res.SolvedStep != nil {
		solved = strconv.FormatInt(*res.SolvedStep, 10)
	}
	_, err = fmt.Fprintf(opts.IO.Out,
		"seed %d: %.0f steps/s, train wall %.1f s (learning %.0f%% of it), episodes %d, solved_step(mean%d>=%g) = %s, "+
			"greedy eval of the kept network over %d eps: mean %.1f min %.0f max %.0f\noutputs in %s\n",
		res.Seed, res.StepsPerS, res.TrainWallS, 100*res.LearnShare, res.Episodes, cfg.Window, res.SolveThreshold, solved,
		res.EvalEpisodes, res.EvalMean, res.EvalMin, res.EvalMax, opts.Out)
	return err
}

// trainDQNRun trains (or resumes) the run in opts.Out and writes its files;
// it returns the result and the config the run used.
func trainDQNRun(opts *TrainDQNOptions) (train.Result, train.Config, error) {
	cfg := opts.Config
	if opts.Version != "" {
		if opts.Version != "v0" && opts.Version != "v1" {
			return train.Result{}, cfg, usageErrorf("--version must be v0 or v1, got %q", opts.Version)
		}
		cfg.Env = "cartpole-" + opts.Version
	}
	ckptPath := filepath.Join(opts.Out, dqnCheckpointFile)
	var tr *train.Trainer
	var err error
	if opts.Resume {
		if err := requireCheckpoint(opts.Out, ckptPath); err != nil {
			return train.Result{}, cfg, err
		}
		if cfg, err = resumeConfig(opts, cfg); err != nil {
			return train.Result{}, cfg, err
		}
		if tr, err = train.ResumeTrainer(cfg, ckptPath); err != nil {
			return train.Result{}, cfg, err
		}
	} else {
		if err := cfg.Validate(); err != nil {
			return train.Result{}, cfg, flagError(err)
		}
		if err := refuseExistingRun(opts.Out, opts.Force, dqnModelFile); err != nil {
			return train.Result{}, cfg, err
		}
		if tr, err = train.NewTrainer(cfg); err != nil {
			return train.Result{}, cfg, err
		}
		if err := startRunDir(opts.Out, "train dqn", cfg); err != nil {
			return train.Result{}, cfg, err
		}
	}
	startStep := tr.Step()
	wall, err := driveTrainer(opts.IO.ErrOut, "train dqn", ckptPath, int64(cfg.Steps), tr, opts.Threads, opts.progressEvery)
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
	// --resume with the same settings finishes at once with the same files.
	if err := tr.SaveCheckpoint(ckptPath); err != nil {
		return train.Result{}, cfg, err
	}
	return res, cfg, nil
}

// resumeConfig starts from the run's config.json and applies the flags given
// on this command line; ResumeTrainer then refuses any mismatch with the
// checkpoint itself.
func resumeConfig(opts *TrainDQNOptions, flags train.Config) (train.Config, error) {
	path := filepath.Join(opts.Out, dqnConfigFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return flags, fmt.Errorf("--resume: %w", err)
	}
	var cfg train.Config
	if err := json.Unmarshal(data, &cfg); err != nil {
		return flags, fmt.Errorf("--resume: %s: %w", path, err)
	}
	set := map[string]func(){
		"env": func() { cfg.Env = flags.Env }, "version": func() { cfg.Env = flags.Env },
		"steps": func() { cfg.Steps = flags.Steps }, "seed": func() { cfg.Seed = flags.Seed },
		"loss": func() { cfg.Loss = flags.Loss }, "lr": func() { cfg.LR = flags.LR },
		"lr-final": func() { cfg.LRFinal = flags.LRFinal }, "gamma": func() { cfg.Gamma = flags.Gamma },
		"buffer": func() { cfg.Buffer = flags.Buffer }, "batch": func() { cfg.Batch = flags.Batch },
		"target-sync": func() { cfg.TargetSync = flags.TargetSync }, "tau": func() { cfg.Tau = flags.Tau },
		"double": func() { cfg.Double = flags.Double }, "eps-start": func() { cfg.EpsStart = flags.EpsStart },
		"eps-end": func() { cfg.EpsEnd = flags.EpsEnd }, "eps-steps": func() { cfg.EpsSteps = flags.EpsSteps },
		"warmup": func() { cfg.Warmup = flags.Warmup }, "train-every": func() { cfg.TrainEvery = flags.TrainEvery },
		"eval-episodes": func() { cfg.EvalEpisodes = flags.EvalEpisodes }, "window": func() { cfg.Window = flags.Window },
		"solve-threshold":    func() { cfg.SolveThresh = flags.SolveThresh },
		"keep-best-every":    func() { cfg.KeepBestEvery = flags.KeepBestEvery },
		"keep-best-episodes": func() { cfg.KeepBestEps = flags.KeepBestEps },
		"hidden":             func() { cfg.Hidden = flags.Hidden }, "checkpoint-every": func() { cfg.CheckpointEvery = flags.CheckpointEvery },
	}
	for name := range opts.changed {
		if f, ok := set[name]; ok {
			f()
		}
	}
	if err := cfg.Validate(); err != nil {
		return cfg, flagError(err)
	}
	return cfg, nil
}

func writeDQNOutputs(dir string, cfg train.Config, tr *train.Trainer, kept, final *model.Network) error {
	meta := formats.CartPoleQMeta()
	meta.Provenance = formats.Provenance{Source: "dqn", Tool: "spikebridge train dqn", Settings: configSettings(cfg)}
	if err := formats.SaveModel(filepath.Join(dir, dqnModelFile), kept, meta); err != nil {
		return err
	}
	if err := formats.SaveModel(filepath.Join(dir, dqnFinalFile), final, meta); err != nil {
		return err
	}
	rows := tr.Metrics()
	if err := formats.WriteFileAtomic(filepath.Join(dir, dqnMetricsFile), func(w io.Writer) error {
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
	return formats.WriteFileAtomic(filepath.Join(dir, dqnCurveFile), func(w io.Writer) error {
		return report.WriteLearningCurve(w, curve)
	})
}

// configSettings flattens cfg into the model file's provenance settings.
func configSettings(cfg train.Config) map[string]string {
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

func writeJSONFile(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return formats.WriteFileAtomic(path, func(w io.Writer) error {
		_, err := w.Write(append(data, '\n'))
		return err
	})
}

// dqnProgress reports training steps of the Q-learning trainers.
func dqnProgress(p *progress) func(train.Progress) {
	return func(pr train.Progress) {
		desc := fmt.Sprintf("%s  ep %d  mean %.0f  eps %.2f", p.label, pr.Episodes, pr.MeanReturn, pr.Epsilon)
		if !p.due(pr.Step, desc, pr.Step == pr.Total) {
			return
		}
		best := ""
		if !math.IsNaN(pr.BestEval) {
			best = fmt.Sprintf("  best eval %.1f", pr.BestEval)
		}
		fmt.Fprintf(p.w, "%s: step %d/%d  episodes %d  mean return %.1f  eps %.3f%s  %.0f steps/s\n",
			p.label, pr.Step, pr.Total, pr.Episodes, pr.MeanReturn, pr.Epsilon, best, p.rate(pr.Step))
	}
}

// refuseExistingRun refuses a directory that already holds a training run
// (its checkpoint or model), unless force. A config.json alone is a run
// stopped before its first checkpoint: nothing to resume, so it may be
// started again without --force (its config is rewritten).
func refuseExistingRun(dir string, force bool, modelFile string) error {
	if force {
		return nil
	}
	for _, name := range []string{dqnCheckpointFile, modelFile} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return fmt.Errorf("%s already holds a run (%s): use --resume to continue it or --force to start afresh", dir, name)
		}
	}
	return nil
}

// startRunDir makes a fresh run's directory and writes its config.json.
func startRunDir(dir, verb string, cfg any) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("%s: %w", verb, err)
	}
	return writeJSONFile(filepath.Join(dir, dqnConfigFile), cfg)
}

// stepTrainer is what `train dqn` and `train sqn` drive.
type stepTrainer interface {
	Step() int64
	Run(ctx context.Context, opts train.RunOptions) error
}

// driveTrainer runs tr to its last step with progress on w, on threads
// threads (0: as is); Ctrl-C stops it with a checkpoint and an error that
// says how to continue. It returns the wall time of the loop.
func driveTrainer(w io.Writer, label, ckptPath string, total int64, tr stepTrainer, threads int, every time.Duration) (time.Duration, error) {
	if threads > 0 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(threads))
	}
	ctx, stop := interruptContext()
	defer stop()
	prog := newProgress(w, label, total, tr.Step(), every, "steps")
	start := time.Now()
	err := tr.Run(ctx, train.RunOptions{CheckpointPath: ckptPath, Progress: dqnProgress(prog), ProgressEvery: 500})
	wall := time.Since(start)
	prog.finish()
	if errors.Is(err, context.Canceled) {
		return wall, fmt.Errorf("interrupted at step %d; checkpoint written to %s, continue with --resume", tr.Step(), ckptPath)
	}
	return wall, err
}

// addDQNFlags registers the DQN settings shared by `train dqn` and `train
// sqn` (flag names as in dqn_torch.py); evalWhere says where the final
// greedy evaluation runs.
func addDQNFlags(f *pflag.FlagSet, c *train.Config, evalWhere string) {
	f.StringVar(&c.Env, "env", c.Env, "environment (cartpole-v1 or cartpole-v0)")
	f.IntVar(&c.Steps, "steps", c.Steps, "env steps of training")
	f.Uint64Var(&c.Seed, "seed", c.Seed, "random seed (network init, exploration, replay, env)")
	f.StringVar(&c.Loss, "loss", c.Loss, "loss: huber (smooth L1, beta 1) or mse")
	f.Float64Var(&c.LR, "lr", c.LR, "Adam learning rate at the start")
	f.Float64Var(&c.LRFinal, "lr-final", c.LRFinal, "learning rate reached linearly at the last step (= --lr for constant)")
	f.Float64Var(&c.Gamma, "gamma", c.Gamma, "discount factor")
	f.IntVar(&c.Buffer, "buffer", c.Buffer, "replay capacity in transitions")
	f.IntVar(&c.Batch, "batch", c.Batch, "mini-batch size")
	f.IntVar(&c.TargetSync, "target-sync", c.TargetSync, "hard target-network copy every N env steps (when --tau is 0)")
	f.Float64Var(&c.Tau, "tau", c.Tau, "soft (Polyak) target update factor per gradient step; 0 = hard sync")
	f.BoolVar(&c.Double, "double", c.Double, "Double DQN targets")
	f.Float64Var(&c.EpsStart, "eps-start", c.EpsStart, "epsilon at the first step")
	f.Float64Var(&c.EpsEnd, "eps-end", c.EpsEnd, "epsilon after --eps-steps")
	f.IntVar(&c.EpsSteps, "eps-steps", c.EpsSteps, "env steps of linear epsilon decay")
	f.IntVar(&c.Warmup, "warmup", c.Warmup, "transitions stored before the first update")
	f.IntVar(&c.TrainEvery, "train-every", c.TrainEvery, "env steps per gradient update")
	f.IntVar(&c.EvalEpisodes, "eval-episodes", c.EvalEpisodes, "greedy episodes of the final evaluation"+evalWhere+" (env seed+10000)")
	f.IntVar(&c.Window, "window", c.Window, "episodes in the moving mean for solved_step")
	f.Float64Var(&c.SolveThresh, "solve-threshold", c.SolveThresh, "solved when the moving mean reaches this; 0 = env default (475 v1, 195 v0)")
	f.IntVar(&c.KeepBestEvery, "keep-best-every", c.KeepBestEvery, "every N env steps evaluate greedily and keep the best network; 0 = off")
	f.IntVar(&c.KeepBestEps, "keep-best-episodes", c.KeepBestEps, "greedy episodes per keep-best evaluation (env seed+20000)")
	f.IntSliceVar(&c.Hidden, "hidden", c.Hidden, "hidden layer widths")
	f.IntVar(&c.CheckpointEvery, "checkpoint-every", c.CheckpointEvery, "env steps between checkpoints; 0 = none")
}

// addRunFlags registers a training run's directory and output flags.
func addRunFlags(f *pflag.FlagSet, threads *int, out *string, resume, force, jsonOut *bool, reference string) {
	f.IntVar(threads, "threads", 1, "GOMAXPROCS for the run (as "+reference+"'s --threads); 0 = leave as is")
	f.StringVar(out, "out", "", "output directory (required)")
	f.BoolVar(resume, "resume", false, "continue the run in --out from its last checkpoint")
	f.BoolVar(force, "force", false, "start afresh even if --out already holds a run")
	f.BoolVar(jsonOut, "json", false, "print the result as one JSON document ("+reference+"'s RESULT fields)")
}
