package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/spikebridge/spikebridge/formats"
)

// InspectOptions holds the flags of `spikebridge inspect`.
type InspectOptions struct {
	IO   *IOStreams
	Path string
	JSON bool
}

// NewCmdInspect parses flags into InspectOptions; runF replaces runInspect in tests.
func NewCmdInspect(ios *IOStreams, runF func(*InspectOptions) error) *cobra.Command {
	opts := &InspectOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "inspect FILE",
		Short: "List the tensors of a model or data file (.safetensors, .pt, .npz, .npy) with shapes, dtypes and statistics",
		Example: `  spikebridge inspect model.safetensors
  spikebridge inspect policy.pt --json
  spikebridge inspect states.npz`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Path = args[0]
			return runVerb(runF, runInspect, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print one JSON document")
	return cmd
}

func runInspect(opts *InspectOptions) error {
	report, err := formats.Describe(opts.Path)
	var unread *formats.DescribeError
	if errors.As(err, &unread) {
		return fmt.Errorf("inspect: %w", err)
	} else if err != nil {
		return err
	}
	return printResult(opts.IO, opts.JSON, report, report.WriteText)
}
