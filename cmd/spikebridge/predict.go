package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/spikebridge/spikebridge/workflow"
)

// PredictOptions holds the flags of `spikebridge predict`.
type PredictOptions struct {
	workflow.PredictOptions
	IO *IOStreams
}

// NewCmdPredict parses flags into PredictOptions; runF replaces runPredict in tests.
func NewCmdPredict(ios *IOStreams, runF func(*PredictOptions) error) *cobra.Command {
	opts := &PredictOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "predict --model M --input FILE.npz[:array] -o OUT.npz",
		Short: "Run a model on every row of an array and write the outputs (array q) to an .npz",
		Example: `  spikebridge predict --model model.safetensors --input states.npz -o q.npz
  spikebridge predict --model model.safetensors --input expected.npz:states -o q.npz`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerb(runF, runPredict, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Model, "model", "model.safetensors", "model file (.safetensors written by spikebridge)")
	cmd.Flags().StringVar(&opts.Input, "input", "states.npz", "input rows: FILE.npz[:array] (array defaults to states) or FILE.npy, shape (N, inputs)")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "predictions.npz", "output .npz: q (N, outputs) float32 and actions (N) argmax, ties to the lowest index")
	cmd.Flags().IntVar(&opts.BatchSize, "batch-size", 1024, "rows per forward pass")
	return cmd
}

func runPredict(opts *PredictOptions) error {
	rows, outputs, err := workflow.Predict(opts.PredictOptions)
	if err != nil {
		return flagErr(err)
	}
	_, err = fmt.Fprintf(opts.IO.ErrOut, "wrote q (%d x %d) and actions to %s\n", rows, outputs, opts.Output)
	return err
}
