package main

import (
	"io"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/spikebridge/spikebridge/train"
	"github.com/spikebridge/spikebridge/workflow"
)

// TrainSQNOptions holds the flags of `spikebridge train sqn`.
type TrainSQNOptions struct {
	IO *IOStreams
	workflow.TrainSQNOptions
	JSON bool
	// changed lists the flags set on the command line, so --resume can
	// take the other settings from the run's config.json.
	changed map[string]bool
	// progressEvery overrides how often plain progress lines appear (tests).
	progressEvery time.Duration
}

// NewCmdTrainSQN parses flags into TrainSQNOptions; runF replaces runTrainSQN in tests.
func NewCmdTrainSQN(ios *IOStreams, runF func(*TrainSQNOptions) error) *cobra.Command {
	opts := &TrainSQNOptions{IO: ios, TrainSQNOptions: workflow.TrainSQNOptions{Config: train.DefaultSQNConfig()}}
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
			return runVerb(runF, runTrainSQN, opts)
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
	ctx, stop := interruptContext()
	defer stop()
	o := opts.TrainSQNOptions
	o.Set, o.Progress = configNames(opts.changed), &trainLines{w: opts.IO.ErrOut, every: opts.progressEvery}
	res, cfg, err := workflow.TrainSQN(ctx, o)
	if err != nil {
		return flagErr(err)
	}
	return printResult(opts.IO, opts.JSON, res, func(w io.Writer) error { return workflow.WriteSQNText(w, res, cfg, opts.Out) })
}
