package main

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/spikebridge/spikebridge/formats/nir"
	"github.com/spikebridge/spikebridge/workflow"
)

// ExportOptions holds the flags of `spikebridge export`.
type ExportOptions struct {
	workflow.ExportOptions
	IO   *IOStreams
	JSON bool
}

// NewCmdExport parses flags into ExportOptions; runF replaces runExport in tests.
func NewCmdExport(ios *IOStreams, runF func(*ExportOptions) error) *cobra.Command {
	opts := &ExportOptions{IO: ios, ExportOptions: workflow.ExportOptions{Version: Version}}
	cmd := &cobra.Command{
		Use:   "export --to nir|brian2|pynn SNN.safetensors -o OUT",
		Short: "Write a spiking model as a NIR graph or as a Brian2 or PyNN script, graded node by node",
		Long: `--to nir writes a NIR graph (HDF5, read by the nir Python package, Norse, snnTorch,
Sinabs, Rockpool, Lava, SpiNNaker2, Xylo, ...). Continuous-time parameters are
computed for --dt (LIF: tau = -dt/ln(leak), r = 1/(1-leak); IF: r = 1/dt), so the
NIR weights are ours; what NIR cannot say (reset by subtraction, v(0), next-step
propagation, rate encoding, readout scale and T) goes into each node's metadata.

--to brian2 and --to pynn write OUT (a Python script) and OUT's .npz of weights
beside it; run them as  python3 OUT INPUT.npz RESULT.npz  where INPUT holds
'states' (rows, inputs) and RESULT gets 'actions', 'outputs' and
'spike_counts_<layer>'. Brian2 follows snn's next-step schedule exactly; PyNN
uses the standard IF_curr_delta cell (reset to v_reset, not by subtraction;
--simulator on the script picks nest, brian2, neuron or spiNNaker).

Every node or layer is graded faithful, approximate or unsupported; the grades
are printed (--json: one document) and written into the file.`,
		Example: `  spikebridge export --to nir snn.safetensors -o snn.nir
  spikebridge export --to brian2 snn.safetensors -o snn_brian2.py
  python3 snn_brian2.py states.npz result.npz`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Model = args[0]
			return runVerb(runF, runExport, opts)
		},
	}
	cmd.Flags().StringVar(&opts.To, "to", "nir", "target: nir, brian2 or pynn")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", "file to write (.nir for nir, .py for scripts; default: the model's name with that extension)")
	cmd.Flags().Float64Var(&opts.DT, "dt", 1e-3, "--to nir: the step length in seconds the continuous-time parameters are computed for")
	cmd.Flags().IntVar(&opts.Batch, "batch", 0, "--to brian2/pynn: rows the script simulates at once as disjoint copies of the network (0: 250 for brian2, 10 for pynn, whose connection set-up is per copy)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the result as one JSON document")
	return cmd
}

func runExport(opts *ExportOptions) error {
	res, err := workflow.Export(opts.ExportOptions)
	if err != nil {
		return flagErr(outputFlagError(err))
	}
	return printResult(opts.IO, opts.JSON, res, res.WriteText)
}

// outputFlagError names -o in an output that is the input file.
func outputFlagError(err error) error {
	var same *workflow.SameFileError
	if errors.As(err, &same) {
		return usageErrorf("-o %s is the input file %s", same.Output, same.Input)
	}
	return err
}

// ImportNIROptions holds the flags of `spikebridge import nir`.
type ImportNIROptions struct {
	workflow.ImportNIROptions
	IO   *IOStreams
	JSON bool
}

// NewCmdImportNIR parses flags into ImportNIROptions; runF replaces
// runImportNIR in tests.
func NewCmdImportNIR(ios *IOStreams, runF func(*ImportNIROptions) error) *cobra.Command {
	opts := &ImportNIROptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "nir FILE.nir -o M.safetensors",
		Short: "Import a NIR graph (Norse, snnTorch, Sinabs, Rockpool, ... or spikebridge export) as a spiking model file",
		Long: `Reads a NIR file (HDF5) without Python and maps its chain
Input -> [Scale] -> (Affine|Linear -> IF|LIF)+ -> [Affine|Linear -> I] -> Output
onto a layered spiking network, discretised with step --dt by exact integration
with the input held over each step (LIF: leak = exp(-dt/tau), weights x (1-leak) r;
IF and I: weights x dt r; reset to 0). Files written by spikebridge export carry
their dt, T and our semantics in metadata and come back exactly. Recurrent
edges, CubaLIF/CubaLI/LI, Threshold, Conv2d and pooling nodes are read and
reported as unsupported, node by node.`,
		Example: `  spikebridge import nir lif_norse.nir --dt 1e-4 --timesteps 1000 -o lif.safetensors
  spikebridge import nir snn.nir -o snn.safetensors`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Input = args[0]
			return runVerb(runF, runImportNIR, opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "model.safetensors", "spiking model file to write (.safetensors)")
	cmd.Flags().Float64Var(&opts.DT, "dt", 0, "step length in seconds (default: the file's dt metadata; required for files that have none)")
	cmd.Flags().IntVar(&opts.Timesteps, "timesteps", 0, "steps per decision stored in the model (default: the file's metadata, else none: every run names T)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the result as one JSON document")
	return cmd
}

func runImportNIR(opts *ImportNIROptions) error {
	res, err := workflow.ImportNIR(opts.ImportNIROptions)
	if err != nil {
		if !opts.JSON && len(res.Grades) > 0 {
			workflow.WriteGrades(opts.IO.ErrOut, res.Grades)
		}
		if errors.Is(err, nir.ErrNoTimeStep) {
			return usageErrorf("%v (--dt)", err)
		}
		return flagErr(outputFlagError(err))
	}
	return printResult(opts.IO, opts.JSON, res, res.WriteText)
}
