package main

import (
	"github.com/spf13/cobra"

	"github.com/spikebridge/spikebridge/workflow"
)

// ConvertOptions holds the flags of `spikebridge convert`.
type ConvertOptions struct {
	IO *IOStreams
	workflow.ConvertOptions
	JSON       bool
	percentile float64 // --percentile, used when given
}

// NewCmdConvert parses flags into ConvertOptions; runF replaces runConvert in tests.
func NewCmdConvert(ios *IOStreams, runF func(*ConvertOptions) error) *cobra.Command {
	opts := &ConvertOptions{IO: ios, ConvertOptions: workflow.DefaultConvertOptions()}
	c := &opts.Classifier
	cmd := &cobra.Command{
		Use:   "convert --model M --calib states.npz [--method distill|baseline|neuron|calibrate] [--timesteps T] -o snn.safetensors",
		Short: "Convert a Q-network into a spiking network (IF neurons, membrane readout)",
		Long: `Convert an ANN into a rate-coded spiking network using recorded states (spikebridge
record) for normalisation.

Methods:
  baseline   DESIGN.md's baseline: layer-wise 99.9th-percentile scales, threshold 1,
             v(0) = θ/2, reset by subtraction, membrane-integrator readout.
  neuron     neuron-wise max normalisation.
  calibrate  neuron, then the biases are calibrated at --timesteps on the states.
  distill    (default) train a student classifier on the states relabelled with the
             model's actions (Gorgonia, cross-entropy, standardized inputs,
             activations clipped to [0,1] and rounded to --clip-floor levels), then
             --dagger-rounds times: convert it, play --dagger-episodes with its SNN
             at --timesteps, label the visited states with the model and retrain on
             all; the student whose SNN agreed most with the model on its own
             episodes is kept (--select) and converted with --copies 2. With
             --clip-floor > 0 the scales are 1 (threshold = the clip); with
             --clip-floor 0, neuron-wise max normalisation.`,
		Example: `  spikebridge convert --model policy.pt --calib states.npz -o snn.safetensors
  spikebridge convert --model policy.pt --calib states.npz --method baseline --timesteps 64 -o base.safetensors`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Out == "" {
				return usageErrorf("-o FILE.safetensors is required")
			}
			if cmd.Flags().Changed("percentile") {
				opts.Percentile = &opts.percentile
			}
			return runVerb(runF, runConvert, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Model, "model", opts.Model, "Q-network to convert (.safetensors or PyTorch .pt)")
	f.StringVar(&opts.Calib, "calib", opts.Calib, "recorded states (.npz, array states)")
	f.StringVar(&opts.Method, "method", opts.Method, "conversion method: distill, baseline, neuron or calibrate")
	f.IntVar(&opts.Timesteps, "timesteps", opts.Timesteps, "default T of the SNN (and the T of calibration and DAgger)")
	f.Float64Var(&opts.percentile, "percentile", 0, "percentile of the activations mapped to the threshold (default: 99.9 baseline, 100 otherwise)")
	f.StringVar(&opts.Env, "env", opts.Env, "environment of the DAgger episodes")
	f.IntVar(&opts.Copies, "copies", opts.Copies, "copies of every spiking neuron at staggered initial membranes: k times the rate resolution at the same T, for k times the spikes (0 = the method's: 2 for distill, else 1)")
	f.IntSliceVar(&c.Hidden, "hidden", c.Hidden, "distill: student hidden widths")
	f.IntVar(&c.Epochs, "epochs", c.Epochs, "distill: epochs of the first student")
	f.IntVar(&c.Batch, "batch", c.Batch, "distill: mini-batch size")
	f.Float64Var(&c.LR, "lr", c.LR, "distill: Adam learning rate")
	f.Float64Var(&c.LRFinal, "lr-final", c.LRFinal, "distill: learning rate reached linearly at each training's last update (0 = constant --lr)")
	f.Uint64Var(&c.Seed, "seed", c.Seed, "distill: seed of training and DAgger episodes")
	f.IntVar(&c.ClipFloor, "clip-floor", c.ClipFloor, "distill: quantisation-aware activations with this many levels; 0 = off")
	f.BoolVar(&c.Standardize, "standardize", c.Standardize, "distill: train on inputs standardised per column (folded into the first layer afterwards)")
	f.IntVar(&opts.DaggerRounds, "dagger-rounds", opts.DaggerRounds, "distill: DAgger rounds (0 = plain distillation)")
	f.IntVar(&opts.DaggerEpisodes, "dagger-episodes", opts.DaggerEpisodes, "distill: SNN episodes recorded per DAgger round")
	f.IntVar(&opts.DaggerEpochs, "dagger-epochs", opts.DaggerEpochs, "distill: epochs of retraining per DAgger round")
	f.IntVar(&opts.MaxUpdates, "max-updates", opts.MaxUpdates, "distill: at most this many updates per training (fewer epochs on many states; 0 = no cap)")
	f.BoolVar(&opts.Select, "select", opts.Select, "distill: keep the student whose SNN agreed most with the model on its own DAgger episodes (the last one is measured on one more batch)")
	f.IntVar(&opts.TeacherEpisodes, "teacher-episodes", opts.TeacherEpisodes, "distill: also train on this many greedy episodes of the model itself (DAgger adds the SNN's)")
	f.Float64Var(&opts.StopAgreement, "stop-agreement", opts.StopAgreement, "distill: end the DAgger rounds once the SNN agrees with the model on this share of its own states (0 = never)")
	f.Float64Var(&opts.Softness, "softness", opts.Softness, "distill: train on the model's Q-values softened by this times their median top-two gap (0 = its actions only)")
	f.StringVar(&opts.StudentInit, "student-init", opts.StudentInit, "distill: start the student at random (random) or as the teacher rescaled into the clip, in its sizes (teacher; measured worse on the zoo)")
	f.StringVar(&opts.StudentOut, "student-out", "", "distill: also save the final student ANN here")
	f.StringVarP(&opts.Out, "output", "o", "", "output spiking model file (.safetensors)")
	f.BoolVar(&opts.JSON, "json", false, "print one JSON document")
	return cmd
}

func runConvert(opts *ConvertOptions) error {
	o := opts.ConvertOptions
	// Progress goes to stderr even with --json: stdout holds the document.
	o.Progress = &stepLines{w: opts.IO.ErrOut}
	res, err := workflow.Convert(o)
	if err != nil {
		return flagErr(err)
	}
	return printResult(opts.IO, opts.JSON, res, res.WriteText)
}
