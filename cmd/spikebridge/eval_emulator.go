package main

import (
	"github.com/spf13/cobra"

	"github.com/spikebridge/spikebridge/probe"
	"github.com/spikebridge/spikebridge/workflow"
)

// EvalEmulatorOptions holds the flags of `spikebridge eval-emulator`.
type EvalEmulatorOptions struct {
	workflow.EvalEmulatorOptions
	IO   *IOStreams
	JSON bool
}

// NewCmdEvalEmulator parses flags; runF replaces runEvalEmulator in tests.
func NewCmdEvalEmulator(ios *IOStreams, runF func(*EvalEmulatorOptions) error) *cobra.Command {
	opts := &EvalEmulatorOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "eval-emulator --model M [--model M2] --data probe.npz [--rollout S] [--json]",
		Short: "Evaluate emulators on their validation trials: NRMSE of the ANN, its converted SNN at several T, and spiking emulators",
		Long: `Rebuild each emulator's validation windows from the probe file (the split stored in the
model) and report NRMSE per target dimension (RMSE / std of the true values):

  one-step  forward task: of the predicted change to the next step (predicting "no
            change" scores ~1); sequence task: of the targets over whole windows.
  rollout   forward task with --rollout S: the model fed its own predictions from each
            validation trial's first state under the recorded inputs; NRMSE over the
            first 1 s and over S seconds (normalised by the target's std).
  free      forward task with --rollout S: the model run free with zero input for S
            seconds; period and amplitude of target 0 after S/3 s. With --system
            vanderpol|arm the true system is run the same way for reference.

A rate emulator is also converted to a spiking network (layer-wise 99.9th percentile
normalisation on its training features, membrane readout) and evaluated at every
--timesteps T. The plot shows forward models' window rollouts. A clip-floor emulator (train emulator --clip-floor L) is evaluated with
its activations clipped (row ann, the SNN's T → ∞ limit) and clipped and rounded to L
levels (row ann L=…, the network it was trained as), and converted with unit scales
(threshold 1 = the clip). One table (or one --json document) and, with --plot, one PNG.`,
		Example: "  spikebridge eval-emulator --model runs/vdp/model.safetensors --data vdp.npz --rollout 20 --system vanderpol",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(opts.Models) == 0 {
				return usageErrorf("--model FILE is required")
			}
			return runVerb(runF, runEvalEmulator, opts)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&opts.Models, "model", nil, "emulator file (repeatable)")
	f.StringVar(&opts.Data, "data", "probe.npz", "probe data set the emulators were trained on")
	f.Float64Var(&opts.Rollout, "rollout", 0, "seconds of free-running rollout (forward tasks; 0 = none)")
	f.IntSliceVar(&opts.Timesteps, "timesteps", []int{8, 16, 32, 64, 128}, "T of the converted SNN (empty = no conversion)")
	f.StringVar(&opts.System, "system", "", "built-in system for reference free runs: vanderpol or arm")
	f.StringVar(&opts.Plot, "plot", "", "write the NRMSE plot to this PNG")
	f.StringVar(&opts.Norm, "norm", "auto", "SNN conversion: layer, neuron or unit normalisation; auto = unit for a --clip-floor emulator, layer otherwise")
	f.Float64Var(&opts.Percentile, "percentile", 99.9, "SNN conversion: activation percentile mapped to the threshold")
	f.IntVar(&opts.Calibration, "calibrate", 0, "SNN conversion: bias calibration rounds at the first --timesteps T on the training features")
	f.BoolVar(&opts.JSON, "json", false, "print one JSON document")
	return cmd
}

func runEvalEmulator(opts *EvalEmulatorOptions) error {
	if err := opts.Check(); err != nil {
		return flagErr(err)
	}
	if opts.Rollout > 0 {
		// The free run allocates per step of --rollout: check before any work.
		p, err := probe.Load(opts.Data)
		if err != nil {
			return err
		}
		if err := checkRolloutMemory(opts.Rollout, p.Dt, p.InputSize, p.TargetSize); err != nil {
			return err
		}
	}
	res, err := workflow.EvalEmulator(opts.EvalEmulatorOptions)
	if err != nil {
		return flagErr(err)
	}
	return printResult(opts.IO, opts.JSON, res, res.WriteTable)
}
