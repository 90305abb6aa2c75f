package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/spikebridge/spikebridge/emulator"
	"github.com/spikebridge/spikebridge/probe"
	"github.com/spikebridge/spikebridge/train"
	"github.com/spikebridge/spikebridge/workflow"
)

// TrainEmulatorOptions holds the flags of `spikebridge train emulator`.
type TrainEmulatorOptions struct {
	workflow.TrainEmulatorOptions
	IO   *IOStreams
	JSON bool
	// ProgressEvery is the interval of the plain progress lines (0 = 5 s).
	ProgressEvery time.Duration
	// changed lists the flags set on the command line, so --resume takes
	// the rest from the run's config.json.
	changed map[string]bool
}

// NewCmdTrainEmulator parses flags; runF replaces runTrainEmulator in tests.
func NewCmdTrainEmulator(ios *IOStreams, runF func(*TrainEmulatorOptions) error) *cobra.Command {
	opts := &TrainEmulatorOptions{IO: ios, TrainEmulatorOptions: workflow.TrainEmulatorOptions{Config: train.DefaultRateEmulatorConfig()}}
	c := &opts.Config
	var freeze string
	cmd := &cobra.Command{
		Use:   "emulator --data probe.npz [--task forward|sequence] [--kind rate|spiking] --out DIR",
		Short: "Train an emulator network (rate MLP or recurrent spiking LIF) on probe data (Gorgonia)",
		Long: `Train a network that emulates a recorded mapping from probe data (spikebridge probe
generate, or your own .npz/.csv with NaN for missing targets).

Tasks: forward — (state, input) at step k -> the change of the state to step k+1 (the
targets must be the system state; eval-emulator runs it free); sequence — a whole window:
the inputs over --window steps plus the targets at the window's first step -> the targets
at every step of the window.
Kinds: rate — an MLP (Dense+ReLU) on the time-delay window; spiking — a recurrent LIF
network (sequence task) trained with surrogate-gradient backpropagation through time,
or, with --task forward, a spiking forward model: --hidden integrate-and-fire layers
run for --timesteps T steps per prediction (analog input, membrane readout), trained by
surrogate-gradient BPTT through the T steps and rolled over windows like the rate
forward model (it is exactly the network snn/ runs; --init may be a rate emulator).
Both use the NaN-masked MSE on standardised values, Adam, keep the network of the best
validation epoch and stop after --patience epochs without improvement. Windows are split
into training and validation by trial (--val, --seed).

Outputs in --out: model.safetensors, metrics.csv (epoch losses), predictions.png
(predicted vs true on validation trials), config.json and checkpoint.bin (for --resume:
the run continues from its last checkpoint and ends bit for bit as an uninterrupted
run; Ctrl-C writes a checkpoint at the current batch). Progress goes to stderr, a bar
on a terminal and a line every few seconds otherwise.`,
		Example: `  spikebridge train emulator --data vdp.npz --task forward --out runs/vdp
  spikebridge train emulator --data arm.npz --task sequence --kind spiking --hidden 128 --out runs/arm-snn
  spikebridge train emulator --resume --out runs/arm-snn`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Out == "" {
				return usageErrorf("--out DIR is required")
			}
			opts.changed = map[string]bool{}
			cmd.Flags().Visit(func(f *pflag.Flag) { opts.changed[f.Name] = true })
			if freeze != "" {
				c.Freeze = strings.Split(freeze, ",")
			}
			return runVerb(runF, runTrainEmulator, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Data, "data", "probe.npz", "probe data set (.npz or .csv)")
	f.StringVar((*string)(&opts.Task), "task", string(probe.ForwardTask), "forward or sequence")
	f.StringVar(&opts.Kind, "kind", emulator.KindRate, "rate or spiking (with --task sequence a recurrent LIF network, with --task forward a spiking forward model)")
	f.IntVar(&opts.Windows.Length, "window", probe.DefaultWindow, "window length in steps")
	f.IntVar(&opts.Windows.Stride, "stride", 0, "steps between window starts (0 = the window length)")
	f.Float64Var(&opts.Windows.ValFraction, "val", 0.2, "fraction of the trials held out for validation")
	f.IntSliceVar(&c.Hidden, "hidden", c.Hidden, "hidden widths (rate: per layer, default 64,64; spiking: one recurrent layer, default 128)")
	f.IntVar(&c.Epochs, "epochs", c.Epochs, "most passes over the training samples")
	f.IntVar(&c.Batch, "batch", c.Batch, "mini-batch size")
	f.Float64Var(&c.LR, "lr", c.LR, "Adam learning rate")
	f.Float64Var(&c.LRFinal, "lr-final", 1e-5, "learning rate reached by a cosine decay at the last epoch (0 = constant)")
	f.IntVar(&c.Patience, "patience", c.Patience, "stop after this many epochs without a better validation loss (0 = never)")
	f.BoolVar(&c.Feedback, "feedback", false, "spiking, experimental: a forward model rolled over the window (integrating readout fed back as input; unstable on the arm so far)")
	f.Float64Var(&c.GradClip, "grad-clip", 0, "rescale each batch's gradient to at most this L2 norm (0 = off)")
	f.IntVar(&opts.Timesteps, "timesteps", 32, "spiking forward model (--kind spiking --task forward): steps per prediction")
	f.IntVar(&c.ClipFloor, "clip-floor", 0, "rate: quantisation-aware hidden activations clip(z,0,1) rounded to this many levels (straight-through gradient), for conversion with unit scales; 0 = plain ReLU")
	f.StringVar(&freeze, "freeze", "", "comma-separated layers kept fixed (rate: fc1,fc2,...; spiking: input,recurrent,readout); with --init to fine-tune")
	f.StringVar(&opts.Init, "init", "", "start from this emulator file (same task and sizes)")
	f.Uint64Var(&c.Seed, "seed", c.Seed, "seed of the split, the initialisation and the shuffling")
	f.StringVar(&opts.Out, "out", "", "output directory (required)")
	f.BoolVar(&opts.Force, "force", false, "overwrite a run already in --out")
	f.BoolVar(&opts.Resume, "resume", false, "continue the run in --out from its last checkpoint (settings from its config.json)")
	f.IntVar(&opts.CheckpointEvery, "checkpoint-every", 1, "epochs between checkpoints; 0 = only on interruption and at the end")
	f.BoolVar(&opts.JSON, "json", false, "print the result as one JSON document")
	return cmd
}

// emulatorRunSetup is what a fresh run derives from the flags, or a resumed
// one from the run's config.json and the flags given again.
func emulatorRunSetup(opts *TrainEmulatorOptions) (emulator.Doc, error) {
	o := opts.TrainEmulatorOptions
	if opts.Resume {
		return workflow.ResumeEmulatorDoc(o, configNames(opts.changed))
	}
	if err := checkEmulatorFlags(o.Config, o.Windows.ValFraction, o.Windows.Length, o.Windows.Stride); err != nil {
		return emulator.Doc{}, err
	}
	if o.Kind == emulator.KindSpiking && !opts.changed["hidden"] {
		o.Config.Hidden = workflow.SpikingEmulatorHidden(o.Task)
	}
	return workflow.NewEmulatorDoc(o)
}

func runTrainEmulator(opts *TrainEmulatorOptions) error {
	doc, err := emulatorRunSetup(opts)
	if err != nil {
		return flagErr(err)
	}
	job, err := workflow.PrepareEmulator(doc, opts.TrainEmulatorOptions)
	if err != nil {
		return err
	}
	ctx, stop := interruptContext()
	defer stop()
	prog := newProgress(opts.IO.ErrOut, "train emulator", job.TotalBatches(), 0, opts.ProgressEvery, "steps")
	out, err := job.Train(ctx, emulatorProgress(prog))
	prog.finish()
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("%w; checkpoint written to %s, continue with --resume --out %s", err, filepath.Join(opts.Out, workflow.EmulatorCkptFile), opts.Out)
		}
		return err
	}
	return printResult(opts.IO, opts.JSON, out, out.WriteText)
}

// emulatorProgress reports the batches of an emulator run.
func emulatorProgress(p *progress) train.EmulatorProgress {
	return func(s train.EmulatorStatus) {
		desc := fmt.Sprintf("train emulator  epoch %d/%d", s.Epoch, s.Epochs)
		if s.Last.Epoch > 0 {
			desc += fmt.Sprintf("  val %.4g", s.Last.ValLoss)
		}
		if !p.due(int64((s.Epoch-1)*s.Batches+s.Batch), desc, s.EpochDone && s.Epoch == s.Epochs) {
			return
		}
		line := fmt.Sprintf("train emulator: epoch %d/%d  batch %d/%d", s.Epoch, s.Epochs, s.Batch, s.Batches)
		if s.Last.Epoch > 0 {
			line += fmt.Sprintf("  epoch %d: train %.4g  val %.4g", s.Last.Epoch, s.Last.TrainLoss, s.Last.ValLoss)
		}
		fmt.Fprintf(p.w, "%s  (%.0fs)\n", line, time.Since(p.start).Seconds())
	}
}
