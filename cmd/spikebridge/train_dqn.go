package main

import (
	"io"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/spikebridge/spikebridge/train"
	"github.com/spikebridge/spikebridge/workflow"
)

// TrainDQNOptions holds the flags of `spikebridge train dqn`.
type TrainDQNOptions struct {
	IO *IOStreams
	workflow.TrainDQNOptions
	JSON bool
	// changed lists the flags set on the command line, so --resume can
	// take the other settings from the run's config.json.
	changed map[string]bool
	// progressEvery overrides how often plain progress lines appear (tests).
	progressEvery time.Duration
}

// NewCmdTrainDQN parses flags into TrainDQNOptions; runF replaces runTrainDQN in tests.
func NewCmdTrainDQN(ios *IOStreams, runF func(*TrainDQNOptions) error) *cobra.Command {
	opts := &TrainDQNOptions{IO: ios, TrainDQNOptions: workflow.TrainDQNOptions{Config: train.DefaultConfig()}}
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
			return runVerb(runF, runTrainDQN, opts)
		},
	}
	f := cmd.Flags()
	addDQNFlags(f, c, "")
	f.StringVar(&opts.Version, "version", "", "CartPole version v0 or v1 (as dqn_torch.py; overrides --env's)")
	addRunFlags(f, &opts.Threads, &opts.Out, &opts.Resume, &opts.Force, &opts.JSON, "dqn_torch.py")
	return cmd
}

func runTrainDQN(opts *TrainDQNOptions) error {
	ctx, stop := interruptContext()
	defer stop()
	o := opts.TrainDQNOptions
	o.Set, o.Progress = configNames(opts.changed), &trainLines{w: opts.IO.ErrOut, every: opts.progressEvery}
	res, cfg, err := workflow.TrainDQN(ctx, o)
	if err != nil {
		return flagErr(err)
	}
	return printResult(opts.IO, opts.JSON, res, func(w io.Writer) error { return workflow.WriteDQNText(w, res, cfg, opts.Out) })
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
