package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/report"
	"github.com/spikebridge/spikebridge/snn"
	"github.com/spikebridge/spikebridge/train"
)

// Files of an SQN run directory (metrics, curve, config and checkpoint are
// named as in a DQN run).
const (
	sqnModelFile = "model.snn.safetensors"
	sqnFinalFile = "final.snn.safetensors"
)

// TrainSQNOptions holds the flags of `spikebridge train sqn`.
type TrainSQNOptions struct {
	IO      *IOStreams
	Config  train.SQNConfig
	Threads int
	Out     string
	Resume  bool
	Force   bool
	JSON    bool
	changed map[string]bool
	// progressEvery overrides how often plain progress lines appear (tests).
	progressEvery time.Duration
}

// NewCmdTrainSQN parses flags into TrainSQNOptions; runF replaces runTrainSQN in tests.
func NewCmdTrainSQN(ios *IOStreams, runF func(*TrainSQNOptions) error) *cobra.Command {
	opts := &TrainSQNOptions{IO: ios, Config: train.DefaultSQNConfig()}
	c := &opts.Config
	cmd := &cobra.Command{
		Use:   "sqn",
		Short: "Train a spiking Q-network directly with surrogate gradients (BPTT) and write it as an SNN model file",
		Long: `Train a spiking Q-network (DSQN semantics: IF neurons, threshold 1, reset by
subtraction, one step of synaptic latency per layer, SuperSpike surrogate, Q = the
output layer's membrane) with DQN. Flags are those of 'train dqn' plus the neurons'.
--timesteps counts simulated steps per decision: sqn_torch.py's --timesteps T is
--timesteps T-2 here (its first step only carries the input one step along and its
output misses the last step's spikes), and the two give the same Q-values.

Outputs in --out: model.snn.safetensors (the kept network, runs in snn/ and in
'eval'/'compare'), final.snn.safetensors (the last), metrics.csv,
learning_curve.png, config.json and checkpoint.bin (for --resume).`,
		Example: "  spikebridge train sqn --env cartpole-v1 --timesteps 20 --steps 50000 --seed 1 --out runs/sqn-s1",
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
			return runTrainSQN(opts)
		},
	}
	f := cmd.Flags()
	addDQNFlags(f, &c.Config, " in snn/")
	f.IntVar(&c.Timesteps, "timesteps", c.Timesteps, "simulated steps per decision (sqn_torch.py's T minus 2)")
	f.Float64Var(&c.Threshold, "threshold", c.Threshold, "firing threshold")
	f.Float64Var(&c.Leak, "leak", c.Leak, "membrane leak beta (1: IF, <1: LIF)")
	f.StringVar(&c.Surrogate, "surrogate", c.Surrogate, "surrogate gradient: superspike (1/(1+k|v-θ|)²) or sigmoid")
	f.Float64Var(&c.SurrogateK, "surrogate-k", c.SurrogateK, "surrogate steepness k")
	f.Float64Var(&c.GradClip, "grad-clip", c.GradClip, "clamp every gradient element to [-c, c]; 0 = off")
	addRunFlags(f, &opts.Threads, &opts.Out, &opts.Resume, &opts.Force, &opts.JSON, "sqn_torch.py")
	return cmd
}

func runTrainSQN(opts *TrainSQNOptions) error {
	cfg := opts.Config
	ckptPath := filepath.Join(opts.Out, dqnCheckpointFile)
	var tr *train.SQNTrainer
	var err error
	if opts.Resume {
		if err := requireCheckpoint(opts.Out, ckptPath); err != nil {
			return err
		}
		if cfg, err = resumeSQNConfig(opts, cfg); err != nil {
			return err
		}
		if tr, err = train.ResumeSQNTrainer(cfg, ckptPath); err != nil {
			return err
		}
	} else {
		if err := cfg.Validate(); err != nil {
			return flagError(err)
		}
		if err := refuseExistingRun(opts.Out, opts.Force, sqnModelFile); err != nil {
			return err
		}
		if tr, err = train.NewSQNTrainer(cfg); err != nil {
			return err
		}
		if err := startRunDir(opts.Out, "train sqn", cfg); err != nil {
			return err
		}
	}
	startStep := tr.Step()
	wall, err := driveTrainer(opts.IO.ErrOut, "train sqn", ckptPath, int64(cfg.Steps), tr, opts.Threads, opts.progressEvery)
	if err != nil {
		return err
	}
	res, kept, final, err := tr.Finish(wall, tr.Step()-startStep)
	if err != nil {
		return err
	}
	if opts.Resume {
		res.ResumedAt = startStep
	}
	if err := writeSQNOutputs(opts.Out, cfg, tr, kept, final); err != nil {
		return err
	}
	if err := tr.SaveCheckpoint(ckptPath); err != nil {
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
		"seed %d: %.0f steps/s, %.2f ms/update, train wall %.1f s, episodes %d, solved_step(mean%d>=%g) = %s, "+
			"greedy eval of the kept network in snn/ at T=%d over %d eps: mean %.1f min %.0f max %.0f "+
			"(%.1f spikes, %.0f SynOps per decision)\noutputs in %s\n",
		res.Seed, res.StepsPerS, res.MsPerUpdate, res.TrainWallS, res.Episodes, cfg.Window, res.SolveThreshold, solved,
		res.Timesteps, res.EvalEpisodes, res.EvalMean, res.EvalMin, res.EvalMax, res.SpikesPerDecide, res.SynOpsPerDecide, opts.Out)
	return err
}

// resumeSQNConfig starts from the run's config.json and applies the flags
// given on this command line.
func resumeSQNConfig(opts *TrainSQNOptions, flags train.SQNConfig) (train.SQNConfig, error) {
	path := filepath.Join(opts.Out, dqnConfigFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return flags, fmt.Errorf("--resume: %w", err)
	}
	var cfg train.SQNConfig
	if err := json.Unmarshal(data, &cfg); err != nil {
		return flags, fmt.Errorf("--resume: %s: %w", path, err)
	}
	// Reuse train dqn's flag table for the DQN settings.
	base, err := resumeDQNFields(opts.changed, cfg.Config, flags.Config)
	if err != nil {
		return cfg, err
	}
	cfg.Config = base
	set := map[string]func(){
		"timesteps": func() { cfg.Timesteps = flags.Timesteps }, "threshold": func() { cfg.Threshold = flags.Threshold },
		"leak": func() { cfg.Leak = flags.Leak }, "surrogate": func() { cfg.Surrogate = flags.Surrogate },
		"surrogate-k": func() { cfg.SurrogateK = flags.SurrogateK }, "grad-clip": func() { cfg.GradClip = flags.GradClip },
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

// resumeDQNFields applies the changed DQN flags to cfg.
func resumeDQNFields(changed map[string]bool, cfg, flags train.Config) (train.Config, error) {
	dir, err := os.MkdirTemp("", "sqn-resume")
	if err != nil {
		return cfg, err
	}
	defer os.RemoveAll(dir)
	if err := writeJSONFile(filepath.Join(dir, dqnConfigFile), cfg); err != nil {
		return cfg, err
	}
	return resumeConfig(&TrainDQNOptions{Out: dir, changed: changed}, flags)
}

func writeSQNOutputs(dir string, cfg train.SQNConfig, tr *train.SQNTrainer, kept, final *snn.Network) error {
	meta := formats.SNNMeta{
		Input:  formats.IOSpec{Size: 4, Meaning: "observation", Names: []string{"x", "x_dot", "theta", "theta_dot"}},
		Output: formats.IOSpec{Size: 2, Meaning: "q-values", Names: []string{"push_left", "push_right"}},
	}
	meta.Provenance = formats.Provenance{Source: "sqn", Tool: "spikebridge train sqn", Settings: configSettings(cfg.Config)}
	for k, v := range map[string]string{"timesteps": strconv.Itoa(cfg.Timesteps), "threshold": fmt.Sprint(cfg.Threshold),
		"leak": fmt.Sprint(cfg.Leak), "surrogate": strconv.Quote(cfg.Surrogate), "surrogate_k": fmt.Sprint(cfg.SurrogateK),
		"grad_clip": fmt.Sprint(cfg.GradClip)} {
		meta.Provenance.Settings[k] = v
	}
	if err := formats.SaveSNN(filepath.Join(dir, sqnModelFile), kept, meta); err != nil {
		return err
	}
	if err := formats.SaveSNN(filepath.Join(dir, sqnFinalFile), final, meta); err != nil {
		return err
	}
	rows := tr.Metrics()
	if err := formats.WriteFileAtomic(filepath.Join(dir, dqnMetricsFile), func(w io.Writer) error {
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
	return formats.WriteFileAtomic(filepath.Join(dir, dqnCurveFile), func(w io.Writer) error {
		return report.WriteLearningCurve(w, curve)
	})
}
