package main

import (
	"github.com/spf13/cobra"

	"github.com/spikebridge/spikebridge/train"
	"github.com/spikebridge/spikebridge/workflow"
)

// TrainClassifierOptions holds the flags of `spikebridge train classifier`.
type TrainClassifierOptions struct {
	workflow.TrainClassifierOptions
	IO   *IOStreams
	JSON bool
}

// NewCmdTrainClassifier parses flags; runF replaces runTrainClassifier in tests.
func NewCmdTrainClassifier(ios *IOStreams, runF func(*TrainClassifierOptions) error) *cobra.Command {
	opts := &TrainClassifierOptions{IO: ios, TrainClassifierOptions: workflow.TrainClassifierOptions{Config: train.DefaultClassifierConfig()}}
	c := &opts.Config
	cmd := &cobra.Command{
		Use:   "classifier --data states.npz [--teacher M] -o student.safetensors",
		Short: "Distil a policy: train a classifier (Gorgonia) on recorded states and the teacher's actions",
		Long: `Train an MLP with softmax cross-entropy to reproduce a teacher's greedy actions on
recorded states (spikebridge record). The labels are the file's "actions" array, or the
argmax of --teacher on every state when it is given. --clip-floor L trains with
quantisation-aware activations (clip to [0,1], round to L levels, straight-through
gradient); the saved network keeps plain ReLUs.`,
		Example: "  spikebridge train classifier --data states.npz --teacher policy.pt -o student.safetensors",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Out == "" {
				return usageErrorf("-o FILE.safetensors is required")
			}
			return runVerb(runF, runTrainClassifier, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Data, "data", "states.npz", "recorded states (.npz with states and actions)")
	f.StringVar(&opts.Teacher, "teacher", "", "relabel the states with this network's argmax (.safetensors or .pt)")
	f.IntSliceVar(&c.Hidden, "hidden", c.Hidden, "hidden layer widths")
	f.IntVar(&c.Epochs, "epochs", c.Epochs, "passes over the data")
	f.IntVar(&c.Batch, "batch", c.Batch, "mini-batch size")
	f.Float64Var(&c.LR, "lr", c.LR, "Adam learning rate")
	f.Uint64Var(&c.Seed, "seed", c.Seed, "seed of the initialisation and shuffling")
	f.IntVar(&c.ClipFloor, "clip-floor", c.ClipFloor, "quantisation-aware activations with this many levels; 0 = off")
	f.StringVarP(&opts.Out, "output", "o", "", "output model file (.safetensors)")
	f.BoolVar(&opts.JSON, "json", false, "print one JSON document")
	return cmd
}

func runTrainClassifier(opts *TrainClassifierOptions) error {
	res, err := workflow.TrainClassifier(opts.TrainClassifierOptions)
	if err != nil {
		return flagErr(err)
	}
	return printResult(opts.IO, opts.JSON, res, res.WriteText)
}
