package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/spikebridge/spikebridge/learn"
	"github.com/spikebridge/spikebridge/workflow"
)

// LearnFollowOptions holds the flags of `spikebridge learn follow`.
type LearnFollowOptions struct {
	workflow.FollowOptions
	IO   *IOStreams
	JSON bool
}

// NewCmdLearnFollow parses flags into LearnFollowOptions; runF replaces
// runLearnFollow in tests.
func NewCmdLearnFollow(ios *IOStreams, runF func(*LearnFollowOptions) error) *cobra.Command {
	opts := &LearnFollowOptions{IO: ios, FollowOptions: workflow.FollowOptions{Config: learn.DefaultFollowConfig(), Trials: 20, EvalTrials: 20, Warmup: 0.5, FreeSeconds: 40}}
	c := &opts.Config
	cmd := &cobra.Command{
		Use:   "follow",
		Short: "Learn van der Pol online with FOLLOW (error feedback, local weight rule) and test the network alone",
		Long: `FOLLOW (Gilra & Gerstner, eLife 2017) on the driven van der Pol oscillator (mu = 2): a recurrent
network of LIF neurons gets the command input u through a spiking input ensemble and the output
error, fed back through its encoders with gain k, so its decoded output follows the reference
integrated beside it; its feed-forward and recurrent weights learn by the local rule
dw_ij = eta dt/N (e_i . err) r_j. Training runs in trials from random states under an
Ornstein-Uhlenbeck input. The test (feedback and learning off): from held-out states, after
--warmup seconds of following, the network alone predicts 1 s (NRMSE per state over the
reference's standard deviation), and runs free with u = 0 for --free-seconds (period and
amplitude from upward zero crossings of x after a third, as eval-emulator does).`,
		Example: "  spikebridge learn follow --neurons 500 --trials 200 --seed 1 --curve follow_curve.csv",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerb(runF, runLearnFollow, opts)
		},
	}
	f := cmd.Flags()
	f.IntVar(&c.Neurons, "neurons", c.Neurons, "recurrent LIF neurons")
	f.IntVar(&c.InputNeurons, "input-neurons", c.InputNeurons, "neurons of the command-input ensemble")
	f.Float64Var(&c.LearningRate, "learning-rate", c.LearningRate, "eta of the weight rule")
	f.Float64Var(&c.Feedback, "feedback", c.Feedback, "error feedback gain k")
	f.Float64Var(&c.Mu, "mu", c.Mu, "van der Pol damping")
	f.Float64Var(&c.TrialSeconds, "trial-seconds", c.TrialSeconds, "seconds per training trial")
	f.Uint64Var(&c.Seed, "seed", c.Seed, "seed of the network, the training trials and the test trials")
	f.IntVar(&opts.Trials, "trials", opts.Trials, "training trials")
	f.IntVar(&opts.EvalTrials, "eval-trials", opts.EvalTrials, "held-out test trials")
	f.Float64Var(&opts.Warmup, "warmup", opts.Warmup, "seconds the network follows (feedback on) before running alone")
	f.Float64Var(&opts.FreeSeconds, "free-seconds", opts.FreeSeconds, "seconds of the free run (u = 0)")
	f.StringVar(&opts.Curve, "output", "", "write the learning curve here (CSV: trial, error_rms)")
	f.StringVar(&opts.Plot, "plot", "", "draw the learning curve here (PNG)")
	f.StringVar(&opts.RolloutPlot, "rollout-plot", "", "draw the first held-out 1 s prediction against the reference here (PNG)")
	f.BoolVar(&opts.JSON, "json", false, "print the result as one JSON document")
	return cmd
}

func runLearnFollow(opts *LearnFollowOptions) error {
	if err := opts.Check(); err != nil {
		return flagErr(err)
	}
	prog := newProgress(opts.IO.ErrOut, "learn follow", int64(opts.Trials), 0, 10*time.Second, "trials")
	res, err := workflow.LearnFollow(opts.FollowOptions, func(r learn.FollowTrial) {
		if prog.due(int64(r.Trial+1), fmt.Sprintf("learn follow  error RMS %.4f", r.ErrorRMS), r.Trial == opts.Trials-1) {
			fmt.Fprintf(prog.w, "trial %d/%d: error RMS %.4f (%.0f s)\n", r.Trial+1, opts.Trials, r.ErrorRMS, time.Since(prog.start).Seconds())
		}
	})
	prog.finish()
	if err != nil {
		return err
	}
	return printResult(opts.IO, opts.JSON, res, res.WriteText)
}
