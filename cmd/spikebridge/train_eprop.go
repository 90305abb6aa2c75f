package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/spikebridge/spikebridge/learn"
	"github.com/spikebridge/spikebridge/workflow"
)

// TrainEpropOptions holds the flags of `spikebridge train eprop`.
type TrainEpropOptions struct {
	workflow.EpropOptions
	IO   *IOStreams
	JSON bool
	// progressEvery is how often progress lines appear.
	progressEvery time.Duration
}

// NewCmdTrainEprop parses flags into TrainEpropOptions; runF replaces
// runTrainEprop in tests.
func NewCmdTrainEprop(ios *IOStreams, runF func(*TrainEpropOptions) error) *cobra.Command {
	opts := &TrainEpropOptions{IO: ios, EpropOptions: workflow.EpropOptions{Config: learn.DefaultEvidenceRun(), Task: "evidence-accumulation",
		EvalTrials: 512, CheckpointEvery: 10}, progressEvery: 10 * time.Second}
	c := &opts.Config
	cmd := &cobra.Command{
		Use:   "eprop",
		Short: "Train a recurrent spiking network (LIF + adaptive LIF) by e-prop, exact to NEST's eprop_*_bsshslm_2020",
		Long: `Train a recurrent network of LIF and adaptive-threshold LIF neurons with two leaky
softmax readouts on the evidence-accumulation task (Bellec et al. 2020) by e-prop with
fixed random feedback, firing-rate regularisation and Adam, as NEST 3.7/3.8's
eprop_iaf_bsshslm_2020 / eprop_iaf_adapt_bsshslm_2020 / eprop_readout_bsshslm_2020 do
(on NEST's test case the losses agree to 1.5e-12). The defaults are NEST's network and
task at batch 32. --gradient bptt trains the same network on the same trials with the
exact surrogate gradient (backpropagation through time) instead, to compare the two.

Outputs in --out: model.eprop.safetensors (float64 weights, feedback and neuron
parameters), metrics.csv (one row per iteration), learning_curve.png, raster.png (one
fresh trial), config.json and checkpoint.npz (for --resume).`,
		Example: "  spikebridge train eprop --task evidence-accumulation --iterations 200 --batch 32 --seed 1 --out runs/eprop-s1",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Out == "" {
				return usageErrorf("--out DIR is required")
			}
			return runVerb(runF, runTrainEprop, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Task, "task", opts.Task, "task: evidence-accumulation")
	f.IntVar(&c.Iterations, "iterations", c.Iterations, "training iterations (one batch each)")
	f.IntVar(&c.Batch, "batch", c.Batch, "trials per iteration")
	f.Uint64Var(&c.Seed, "seed", c.Seed, "seed of the initial weights, the training trials and the evaluation trials")
	f.IntVar(&c.Network.LIF, "lif", c.Network.LIF, "LIF neurons")
	f.IntVar(&c.Network.ALIF, "alif", c.Network.ALIF, "adaptive-threshold LIF neurons")
	f.Float64Var(&c.Eprop.LearningRate, "learning-rate", c.Eprop.LearningRate, "Adam step size")
	f.Float64Var(&c.Eprop.RegStrength, "reg", c.Eprop.RegStrength, "firing-rate regularisation strength c_reg")
	f.IntVar(&c.Task.Cues, "cues", c.Task.Cues, "cues per trial")
	f.IntVar(&c.Task.BackgroundSteps, "background-steps", c.Task.BackgroundSteps, "steps of background between the last cue and the recall")
	f.StringVar((*string)(&c.Eprop.Gradient), "gradient", string(learn.GradientEprop), "weight gradient: eprop (NEST's e-prop) or bptt (surrogate-gradient BPTT of the same network and loss, for comparison)")
	f.IntVar(&c.Eprop.Workers, "workers", 0, "goroutines simulating the trials of a batch (0: all CPUs); results do not depend on it")
	f.IntVar(&opts.EvalTrials, "eval-trials", opts.EvalTrials, "fresh trials for the final accuracy (and at every checkpoint)")
	f.IntVar(&opts.CheckpointEvery, "checkpoint-every", opts.CheckpointEvery, "iterations between checkpoints")
	f.StringVar(&opts.Out, "out", "", "run directory (required)")
	f.BoolVar(&opts.Resume, "resume", false, "continue the run in --out from its checkpoint (only --iterations may change)")
	f.BoolVar(&opts.Force, "force", false, "overwrite an existing run in --out")
	f.BoolVar(&opts.JSON, "json", false, "print the result as one JSON document")
	return cmd
}

func runTrainEprop(opts *TrainEpropOptions) error {
	job, err := workflow.StartEprop(opts.EpropOptions)
	var exists *workflow.RunExistsError
	if errors.As(err, &exists) {
		return fmt.Errorf("%s: pass --resume to continue it or --force to overwrite it", err)
	} else if err != nil {
		return flagErr(err)
	}
	prog := newProgress(opts.IO.ErrOut, "train eprop", int64(job.Iterations()), int64(job.ResumedAt), opts.progressEvery, "iterations")
	res, err := job.Train(func(s workflow.EpropStatus) {
		r := s.Record
		desc := fmt.Sprintf("train eprop  loss %.4f  accuracy %.3f", r.Loss, r.Accuracy)
		if s.Checkpoint {
			prog.due(int64(s.Iteration), desc, true)
			prog.note(fmt.Sprintf("iteration %d/%d: loss %.4f, batch accuracy %.3f, fresh-trial accuracy %.3f (%d trials), %.1f spikes/trial, %.0f ms/iteration",
				s.Iteration, s.Iterations, r.Loss, r.Accuracy, s.FreshAccuracy, s.EvalTrials, r.SpikesPerTrial, s.MsPerIteration))
		} else if prog.due(int64(s.Iteration), desc, false) {
			fmt.Fprintf(prog.w, "train eprop: iteration %d/%d: loss %.4f, batch accuracy %.3f\n", s.Iteration, s.Iterations, r.Loss, r.Accuracy)
		}
	})
	prog.finish()
	if err != nil {
		return err
	}
	return printResult(opts.IO, opts.JSON, res, res.WriteText)
}
