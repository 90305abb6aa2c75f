package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/spikebridge/spikebridge/emulator"
	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/model"
	"github.com/spikebridge/spikebridge/probe"
	"github.com/spikebridge/spikebridge/report"
	"github.com/spikebridge/spikebridge/train"
)

// Files of an emulator run directory.
const (
	emulatorModelFile   = "model.safetensors"
	emulatorConfigFile  = "config.json"
	emulatorMetricsFile = "metrics.csv"
	emulatorTracesFile  = "predictions.png"
	emulatorCkptFile    = "checkpoint.bin"
)

// TrainEmulatorOptions holds the flags of `spikebridge train emulator`.
type TrainEmulatorOptions struct {
	IO      *IOStreams
	Data    string
	Task    string
	Kind    string
	Windows probe.WindowOptions
	Config  train.EmulatorConfig
	Init    string
	Out     string
	Force   bool
	Resume  bool
	JSON    bool
	// Timesteps is T of a spiking forward model (--kind spiking --task forward).
	Timesteps int
	// CheckpointEvery is the number of epochs between checkpoints (0 = only
	// on interruption and at the end).
	CheckpointEvery int
	// ProgressEvery is the interval of the plain progress lines (0 = 5 s).
	ProgressEvery time.Duration
	// changed lists the flags set on the command line, so --resume takes
	// the rest from the run's config.json.
	changed map[string]bool
}

// NewCmdTrainEmulator parses flags; runF replaces runTrainEmulator in tests.
func NewCmdTrainEmulator(ios *IOStreams, runF func(*TrainEmulatorOptions) error) *cobra.Command {
	opts := &TrainEmulatorOptions{IO: ios, Config: train.DefaultRateEmulatorConfig()}
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
			if runF != nil {
				return runF(opts)
			}
			return runTrainEmulator(opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Data, "data", "probe.npz", "probe data set (.npz or .csv)")
	f.StringVar(&opts.Task, "task", "forward", "forward or sequence")
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

// TrainEmulatorResult is the --json document of `train emulator`.
type TrainEmulatorResult struct {
	train.EmulatorResult
	Kind        string    `json:"kind"`
	Task        string    `json:"task"`
	Model       string    `json:"model"`
	TrainWallS  float64   `json:"train_wall_s"`
	ValNRMSE    []float64 `json:"val_nrmse"`
	TargetNames []string  `json:"target_names"`
	// ResumedAtEpoch is the number of epochs done before this process
	// continued the run (--resume).
	ResumedAtEpoch int `json:"resumed_at_epoch,omitempty"`
	// SkippedMissingInput and SkippedMissingTarget count the samples
	// (training and validation) left out because a state or input they
	// start from is NaN, or because every target is NaN; partly missing
	// targets stay and are masked in the loss.
	SkippedMissingInput  int `json:"skipped_missing_input"`
	SkippedMissingTarget int `json:"skipped_missing_target"`
}

// emulatorRunSetup is what a fresh run derives from the flags, or a resumed
// one from the run's config.json and the flags given again.
func emulatorRunSetup(opts *TrainEmulatorOptions) (emulator.Doc, error) {
	cfg := opts.Config
	kindFlag, taskFlag := opts.Kind, opts.Task
	if opts.Resume {
		if _, err := os.Stat(filepath.Join(opts.Out, emulatorCkptFile)); err != nil {
			return emulator.Doc{}, usageErrorf("--resume: %s holds no checkpoint (the run stopped before its first one, or never ran): start it again without --resume", opts.Out)
		}
		path := filepath.Join(opts.Out, emulatorConfigFile)
		raw, err := os.ReadFile(path)
		if err != nil {
			return emulator.Doc{}, fmt.Errorf("--resume: %w", err)
		}
		var doc emulator.Doc
		if err := json.Unmarshal(raw, &doc); err != nil {
			return doc, fmt.Errorf("--resume: %s: %w", path, err)
		}
		if opts.changed["kind"] && kindFlag != doc.Kind || opts.changed["task"] && taskFlag != string(doc.Task.Kind) {
			return doc, usageErrorf("--resume: the run in %s trains a %s %s emulator, not --kind %s --task %s", opts.Out, doc.Kind, doc.Task.Kind, kindFlag, taskFlag)
		}
		if opts.changed["data"] {
			doc.Source = opts.Data
		}
		c := &doc.Config
		set := map[string]func(){
			"hidden": func() { c.Hidden = cfg.Hidden }, "epochs": func() { c.Epochs = cfg.Epochs },
			"batch": func() { c.Batch = cfg.Batch }, "lr": func() { c.LR = cfg.LR }, "lr-final": func() { c.LRFinal = cfg.LRFinal },
			"patience": func() { c.Patience = cfg.Patience }, "freeze": func() { c.Freeze = cfg.Freeze }, "seed": func() { c.Seed = cfg.Seed },
			"feedback": func() { c.Feedback = cfg.Feedback }, "grad-clip": func() { c.GradClip = cfg.GradClip },
			"clip-floor": func() { c.ClipFloor = cfg.ClipFloor },
		}
		for name := range opts.changed {
			if f, ok := set[name]; ok {
				f()
			}
		}
		if opts.changed["timesteps"] && opts.Timesteps != doc.Timesteps {
			return doc, usageErrorf("--resume: the run in %s trains at --timesteps %d; T cannot change in a run under way", opts.Out, doc.Timesteps)
		}
		for _, name := range []string{"window", "stride", "val", "init"} {
			if opts.changed[name] {
				return doc, usageErrorf("--resume: --%s cannot change in a run under way (it changes the samples)", name)
			}
		}
		return doc, nil
	}
	if err := checkEmulatorFlags(cfg, opts.Windows.ValFraction, opts.Windows.Length, opts.Windows.Stride); err != nil {
		return emulator.Doc{}, err
	}
	if kindFlag != emulator.KindRate && kindFlag != emulator.KindSpiking {
		return emulator.Doc{}, usageErrorf("--kind %q: want rate or spiking", kindFlag)
	}
	kind := probe.TaskKind(taskFlag)
	if kind != probe.ForwardTask && kind != probe.SequenceTask {
		return emulator.Doc{}, usageErrorf("--task %q: want forward or sequence", taskFlag)
	}
	spikingForward := kindFlag == emulator.KindSpiking && kind == probe.ForwardTask
	if spikingForward && (opts.Timesteps <= 0 || cfg.Feedback) {
		return emulator.Doc{}, usageErrorf("--kind spiking --task forward needs --timesteps T > 0 and no --feedback")
	}
	if kindFlag == emulator.KindSpiking && cfg.ClipFloor > 0 {
		return emulator.Doc{}, usageErrorf("--clip-floor applies to --kind rate")
	}
	if kindFlag == emulator.KindSpiking && !opts.changed["hidden"] {
		cfg.Hidden = train.DefaultSpikingEmulatorConfig().Hidden
		if spikingForward {
			cfg.Hidden = []int{128, 128}
		}
	}
	windows := opts.Windows
	windows.Seed = cfg.Seed
	if !opts.Force {
		// A config.json alone is a run stopped before its first checkpoint.
		for _, name := range []string{emulatorCkptFile, emulatorModelFile} {
			if _, err := os.Stat(filepath.Join(opts.Out, name)); err == nil {
				return emulator.Doc{}, fmt.Errorf("%s already holds a run (%s): use --resume to continue it or --force to start afresh", opts.Out, name)
			}
		}
	}
	data, err := emulator.LoadSamples(opts.Data, &probe.Task{}, windows)
	if err != nil {
		return emulator.Doc{}, err
	}
	task, err := probe.NewTask(kind, data.Probe, data.Split)
	if err != nil {
		return emulator.Doc{}, fmt.Errorf("%s: %w", opts.Data, err)
	}
	if opts.Init != "" {
		init, err := emulator.Load(opts.Init)
		if err != nil {
			return emulator.Doc{}, err
		}
		if (init.Rate != nil) != (kindFlag == emulator.KindRate || spikingForward) || init.Doc.Task.Kind != kind {
			return emulator.Doc{}, fmt.Errorf("--init %s is a %s %s emulator, this run trains a %s %s one", opts.Init, init.Doc.Kind, init.Doc.Task.Kind, kindFlag, kind)
		}
		// Fine-tuning keeps the initial network's standardisation.
		task.Norm = init.Doc.Task.Norm
	}
	doc := emulator.Doc{Kind: kindFlag, Task: *task, Windows: windows, Config: cfg, Source: opts.Data}
	if spikingForward {
		doc.Timesteps = opts.Timesteps
	}
	return doc, nil
}

func runTrainEmulator(opts *TrainEmulatorOptions) error {
	doc, err := emulatorRunSetup(opts)
	if err != nil {
		return err
	}
	cfg, task := doc.Config, &doc.Task
	modelPath := filepath.Join(opts.Out, emulatorModelFile)
	ckptPath := filepath.Join(opts.Out, emulatorCkptFile)
	data, err := emulator.LoadSamples(doc.Source, task, doc.Windows)
	if err != nil {
		return err
	}
	var init *emulator.Model
	if opts.Init != "" && !opts.Resume {
		if init, err = emulator.Load(opts.Init); err != nil {
			return err
		}
	}
	if !opts.Resume {
		if err := os.MkdirAll(opts.Out, 0o755); err != nil {
			return fmt.Errorf("train emulator: %w", err)
		}
		// A stale checkpoint of an earlier run (--force) must not be resumed.
		if err := os.Remove(ckptPath); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("train emulator: %w", err)
		}
		if err := writeJSONFile(filepath.Join(opts.Out, emulatorConfigFile), doc); err != nil {
			return err
		}
	}
	ctx, stop := interruptContext()
	defer stop()
	batches := (data.Train.Rows + cfg.Batch - 1) / cfg.Batch
	prog := newEmulatorProgress(opts.IO.ErrOut, int64(cfg.Epochs*batches), opts.ProgressEvery)
	run := train.EmulatorRun{Ctx: ctx, CheckpointPath: ckptPath, CheckpointEvery: opts.CheckpointEvery, Resume: opts.Resume, Progress: prog.update}
	start := time.Now()
	m := &emulator.Model{Doc: doc}
	var res train.EmulatorResult
	if doc.Kind == emulator.KindRate || doc.Timesteps > 0 {
		var initNet *model.Network
		if init != nil {
			initNet = init.Rate
		}
		if doc.Kind == emulator.KindRate {
			m.Rate, res, err = train.TrainRateEmulator(data.Train, data.Val, initNet, cfg, run)
		} else {
			m.Rate, res, err = train.TrainSpikingForward(data.Train, data.Val, initNet, doc.Timesteps, cfg, run)
		}
	} else {
		var initNet *emulator.Spiking
		if init != nil {
			initNet = init.Spiking
		}
		m.Spiking, res, err = train.TrainSpikingEmulator(data.Train, data.Val, task.Window, initNet, cfg, run)
		if err == nil {
			e := m.Spiking
			d := &m.Doc
			d.StepInputs, d.Context, d.Hidden, d.Outputs = e.StepInputs, e.Context, e.Hidden, e.Outputs
			d.Leak, d.TraceDecay, d.Threshold, d.Feedback = e.Leak, e.TraceDecay, e.Threshold, e.Feedback
		}
	}
	wall := time.Since(start)
	prog.finish()
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("%w; checkpoint written to %s, continue with --resume --out %s", err, ckptPath, opts.Out)
		}
		return err
	}
	nrmse, err := task.NRMSE(data.Val, m.Predictor())
	if err != nil {
		return err
	}
	if err := writeJSONFile(filepath.Join(opts.Out, emulatorConfigFile), m.Doc); err != nil {
		return err
	}
	if err := emulator.Save(modelPath, m); err != nil {
		return err
	}
	if err := formats.WriteFileAtomic(filepath.Join(opts.Out, emulatorMetricsFile), func(w io.Writer) error {
		return writeEmulatorMetrics(w, res.History)
	}); err != nil {
		return err
	}
	if err := writeEmulatorTraces(filepath.Join(opts.Out, emulatorTracesFile), m, data); err != nil {
		return err
	}
	out := TrainEmulatorResult{EmulatorResult: res, Kind: doc.Kind, Task: string(task.Kind), Model: modelPath,
		TrainWallS: wall.Seconds(), ValNRMSE: nrmse, TargetNames: task.TargetNames, ResumedAtEpoch: prog.resumedFrom,
		SkippedMissingInput:  data.Train.MissingInput + data.Val.MissingInput,
		SkippedMissingTarget: data.Train.MissingTarget + data.Val.MissingTarget}
	if opts.JSON {
		return json.NewEncoder(opts.IO.Out).Encode(out)
	}
	what := "validation NRMSE"
	if task.Kind == probe.ForwardTask {
		what = "validation one-step NRMSE (of the change)"
	}
	if out.SkippedMissingInput+out.SkippedMissingTarget > 0 {
		fmt.Fprintf(opts.IO.Out, "%s: %d samples left out because a state or input they start from is missing (NaN), %d because all their targets are\n",
			doc.Source, out.SkippedMissingInput, out.SkippedMissingTarget)
	}
	_, err = fmt.Fprintf(opts.IO.Out, "%s %s emulator: best epoch %d of %d, validation MSE %.4g (standardised), %s %s; wrote %s\n",
		doc.Kind, task.Kind, res.BestEpoch, res.Epochs, res.ValLoss, what, formatNRMSE(task.TargetNames, nrmse), opts.Out)
	return err
}

func formatNRMSE(names []string, v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		name := strconv.Itoa(i)
		if i < len(names) {
			name = names[i]
		}
		parts[i] = fmt.Sprintf("%s %.4f", name, x)
	}
	return strings.Join(parts, ", ")
}

func writeEmulatorMetrics(w io.Writer, history []train.EpochStats) error {
	if _, err := io.WriteString(w, "epoch,train_loss,val_loss\n"); err != nil {
		return err
	}
	for _, h := range history {
		line := strconv.Itoa(h.Epoch) + "," + strconv.FormatFloat(h.TrainLoss, 'g', -1, 64) + "," + strconv.FormatFloat(h.ValLoss, 'g', -1, 64) + "\n"
		if _, err := io.WriteString(w, line); err != nil {
			return err
		}
	}
	return nil
}

// writeEmulatorTraces plots prediction and truth on the first validation
// window (forward task: the driven free-running rollout over the window).
func writeEmulatorTraces(path string, m *emulator.Model, data *emulator.Data) error {
	traces, err := emulatorTraces(m, m.Predictor(), data, data.Split.Val[0])
	if err != nil {
		return err
	}
	return formats.WriteFileAtomic(path, func(w io.Writer) error { return report.WriteEmulatorTraces(w, traces) })
}

// emulatorTraces returns predicted and true targets over one window.
func emulatorTraces(m *emulator.Model, predict probe.Predictor, data *emulator.Data, win probe.Window) (report.EmulatorTraces, error) {
	task := &m.Doc.Task
	p := data.Probe
	tr := report.EmulatorTraces{Dt: p.Dt, Names: task.TargetNames, Steps: task.Window,
		Title: fmt.Sprintf("%s %s emulator, validation trial %d from step %d", m.Doc.Kind, task.Kind, win.Trial, win.Start)}
	truth := p.Targets[(win.Trial*p.Steps+win.Start)*p.TargetSize : (win.Trial*p.Steps+win.Start+task.Window)*p.TargetSize]
	tr.True = append([]float64(nil), truth...)
	switch task.Kind {
	case probe.ForwardTask:
		tr.Title += " (free-running rollout under the recorded inputs)"
		inputs := p.Inputs[(win.Trial*p.Steps+win.Start)*p.InputSize:]
		roll, err := task.Rollout(predict, p.Target(win.Trial, win.Start), inputs, task.Window-1)
		if err != nil && roll == nil {
			return tr, err
		}
		tr.Predicted = roll
	default:
		s, err := task.Samples(p, []probe.Window{win})
		if err != nil {
			return tr, err
		}
		x, _ := s.Row(0)
		y := make([]float32, s.Out)
		if err := predict(y, x); err != nil {
			return tr, err
		}
		task.Absolute(y, x)
		tr.Predicted = make([]float64, len(y))
		for i, v := range y {
			d := i % task.TargetSize
			tr.Predicted[i] = float64(v)*task.Norm.TargetStd[d] + task.Norm.TargetMean[d]
		}
	}
	return tr, nil
}

// emulatorProgress reports the batches of an emulator run and remembers
// the epoch it resumed from.
type emulatorProgress struct {
	*progress
	resumedFrom int
}

func newEmulatorProgress(w io.Writer, totalBatches int64, every time.Duration) *emulatorProgress {
	return &emulatorProgress{progress: newProgress(w, "train emulator", totalBatches, 0, every, "steps")}
}

func (p *emulatorProgress) update(s train.EmulatorStatus) {
	p.resumedFrom = s.ResumedFromEpoch
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
