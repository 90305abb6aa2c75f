package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spikebridge/spikebridge/emulator"
	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/model"
	"github.com/spikebridge/spikebridge/probe"
	"github.com/spikebridge/spikebridge/train"
)

// Files of an emulator run directory.
const (
	EmulatorModelFile   = "model.safetensors"
	EmulatorConfigFile  = "config.json"
	EmulatorMetricsFile = "metrics.csv"
	EmulatorTracesFile  = "predictions.png"
	EmulatorCkptFile    = "checkpoint.bin"
)

// TrainEmulatorOptions is an emulator training run into the directory Out.
type TrainEmulatorOptions struct {
	Data    string // probe data (.npz or .csv)
	Task    probe.TaskKind
	Kind    string // emulator.KindRate or emulator.KindSpiking
	Windows probe.WindowOptions
	Config  train.EmulatorConfig
	// Timesteps is T of a spiking forward model (kind spiking, forward task).
	Timesteps int
	// Init is an emulator file to start from (same task and sizes).
	Init          string
	Out           string
	Force, Resume bool
	// CheckpointEvery is the number of epochs between checkpoints (0 = only
	// on interruption and at the end).
	CheckpointEvery int
}

// TrainEmulatorResult is the result of a run (`train emulator --json`).
type TrainEmulatorResult struct {
	train.EmulatorResult
	Kind        string    `json:"kind"`
	Task        string    `json:"task"`
	Model       string    `json:"model"`
	TrainWallS  float64   `json:"train_wall_s"`
	ValNRMSE    []float64 `json:"val_nrmse"`
	TargetNames []string  `json:"target_names"`
	// ResumedAtEpoch is the number of epochs done before this process
	// continued the run.
	ResumedAtEpoch int `json:"resumed_at_epoch,omitempty"`
	// SkippedMissingInput and SkippedMissingTarget count the samples
	// (training and validation) left out because a state or input they
	// start from is NaN, or because every target is NaN; partly missing
	// targets stay and are masked in the loss.
	SkippedMissingInput  int `json:"skipped_missing_input"`
	SkippedMissingTarget int `json:"skipped_missing_target"`
	// Source is the probe data and Out the run directory.
	Source string `json:"-"`
	Out    string `json:"-"`
}

// ResumeEmulatorDoc reads the description of the run in o.Out to resume
// it, with the settings named in set (Config's JSON names: lr_final, ...;
// and data) taken from o. Kind, Task and Timesteps may be named only with
// the run's values; window, stride, val and init not at all (they change
// the samples).
func ResumeEmulatorDoc(o TrainEmulatorOptions, set map[string]bool) (emulator.Doc, error) {
	var doc emulator.Doc
	if _, err := os.Stat(filepath.Join(o.Out, EmulatorCkptFile)); err != nil {
		return doc, noCheckpoint(o.Out)
	}
	path := filepath.Join(o.Out, EmulatorConfigFile)
	raw, err := os.ReadFile(path)
	if err != nil {
		return doc, &ResumeError{err}
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return doc, resumeErrorf("%s: %w", path, err)
	}
	if set["kind"] && o.Kind != doc.Kind || set["task"] && o.Task != doc.Task.Kind {
		return doc, invalidf("{Resume}: the run in %s trains a %s %s emulator, not {Kind} %s {Task} %s", o.Out, doc.Kind, doc.Task.Kind, o.Kind, o.Task)
	}
	if set["data"] {
		doc.Source = o.Data
	}
	c, given := &doc.Config, o.Config
	for name, apply := range map[string]func(){
		"hidden": func() { c.Hidden = given.Hidden }, "epochs": func() { c.Epochs = given.Epochs },
		"batch": func() { c.Batch = given.Batch }, "lr": func() { c.LR = given.LR }, "lr_final": func() { c.LRFinal = given.LRFinal },
		"patience": func() { c.Patience = given.Patience }, "freeze": func() { c.Freeze = given.Freeze }, "seed": func() { c.Seed = given.Seed },
		"feedback": func() { c.Feedback = given.Feedback }, "grad_clip": func() { c.GradClip = given.GradClip },
		"clip_floor": func() { c.ClipFloor = given.ClipFloor },
	} {
		if set[name] {
			apply()
		}
	}
	if set["timesteps"] && o.Timesteps != doc.Timesteps {
		return doc, invalidf("{Resume}: the run in %s trains at {Timesteps} %d; T cannot change in a run under way", o.Out, doc.Timesteps)
	}
	for _, name := range []string{"Window", "Stride", "Val", "Init"} {
		if set[strings.ToLower(name)] {
			return doc, invalidf("{Resume}: {%s} cannot change in a run under way (it changes the samples)", name)
		}
	}
	return doc, nil
}

// checkEmulatorKind refuses kinds, tasks and settings that do not go
// together.
func checkEmulatorKind(o TrainEmulatorOptions) error {
	if o.Kind != emulator.KindRate && o.Kind != emulator.KindSpiking {
		return invalidf("{Kind} %q: want rate or spiking", o.Kind)
	}
	if o.Task != probe.ForwardTask && o.Task != probe.SequenceTask {
		return invalidf("{Task} %q: want forward or sequence", o.Task)
	}
	if o.Kind == emulator.KindSpiking && o.Task == probe.ForwardTask && (o.Timesteps <= 0 || o.Config.Feedback) {
		return invalidf("{Kind} spiking {Task} forward needs {Timesteps} T > 0 and no {Feedback}")
	}
	if o.Kind == emulator.KindSpiking && o.Config.ClipFloor > 0 {
		return invalidf("{ClipFloor} applies to {Kind} rate")
	}
	return nil
}

// NewEmulatorDoc describes a fresh run of o: it checks the kind and task,
// refuses a directory holding a run unless Force (RunExistsError), builds
// the task's standardisation from the data (or takes the Init file's) and
// checks that Init is an emulator of the run's kind and task.
func NewEmulatorDoc(o TrainEmulatorOptions) (emulator.Doc, error) {
	if err := checkEmulatorKind(o); err != nil {
		return emulator.Doc{}, err
	}
	spikingForward := o.Kind == emulator.KindSpiking && o.Task == probe.ForwardTask
	windows := o.Windows
	windows.Seed = o.Config.Seed
	if !o.Force {
		// A config.json alone is a run stopped before its first checkpoint.
		for _, name := range []string{EmulatorCkptFile, EmulatorModelFile} {
			if _, err := os.Stat(filepath.Join(o.Out, name)); err == nil {
				return emulator.Doc{}, &RunExistsError{o.Out, name}
			}
		}
	}
	data, err := emulator.LoadSamples(o.Data, &probe.Task{}, windows)
	if err != nil {
		return emulator.Doc{}, err
	}
	task, err := probe.NewTask(o.Task, data.Probe, data.Split)
	if err != nil {
		return emulator.Doc{}, fmt.Errorf("%s: %w", o.Data, err)
	}
	if o.Init != "" {
		init, err := emulator.Load(o.Init)
		if err != nil {
			return emulator.Doc{}, err
		}
		if (init.Rate != nil) != (o.Kind == emulator.KindRate || spikingForward) || init.Doc.Task.Kind != o.Task {
			return emulator.Doc{}, &OptionError{Msg: fmt.Sprintf("{Init} %s is a %s %s emulator, this run trains a %s %s one",
				o.Init, init.Doc.Kind, init.Doc.Task.Kind, o.Kind, o.Task)}
		}
		// Fine-tuning keeps the initial network's standardisation.
		task.Norm = init.Doc.Task.Norm
	}
	doc := emulator.Doc{Kind: o.Kind, Task: *task, Windows: windows, Config: o.Config, Source: o.Data}
	if spikingForward {
		doc.Timesteps = o.Timesteps
	}
	return doc, nil
}

// EmulatorJob is an emulator run ready to train: its samples loaded and,
// when fresh, its directory and config.json written.
type EmulatorJob struct {
	doc  emulator.Doc
	opts TrainEmulatorOptions
	data *emulator.Data
	init *emulator.Model
}

// PrepareEmulator loads the samples of doc (from NewEmulatorDoc, or
// ResumeEmulatorDoc with o.Resume) and, for a fresh run, the Init file, and
// writes the run's config.json (removing a stale checkpoint of an earlier
// run).
func PrepareEmulator(doc emulator.Doc, o TrainEmulatorOptions) (*EmulatorJob, error) {
	data, err := emulator.LoadSamples(doc.Source, &doc.Task, doc.Windows)
	if err != nil {
		return nil, err
	}
	j := &EmulatorJob{doc: doc, opts: o, data: data}
	if o.Init != "" && !o.Resume {
		if j.init, err = emulator.Load(o.Init); err != nil {
			return nil, err
		}
	}
	if !o.Resume {
		if err := os.MkdirAll(o.Out, 0o755); err != nil {
			return nil, fmt.Errorf("train emulator: %w", err)
		}
		// A stale checkpoint of an earlier run (Force) must not be resumed.
		if err := os.Remove(filepath.Join(o.Out, EmulatorCkptFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("train emulator: %w", err)
		}
		if err := WriteJSONFile(filepath.Join(o.Out, EmulatorConfigFile), doc); err != nil {
			return nil, err
		}
	}
	return j, nil
}

// TotalBatches is the number of batches of the whole run.
func (j *EmulatorJob) TotalBatches() int64 {
	cfg := j.doc.Config
	return int64(cfg.Epochs * ((j.data.Train.Rows + cfg.Batch - 1) / cfg.Batch))
}

// Train trains the emulator (checkpoints as the options say; a cancelled
// ctx stops it with a checkpoint and an error wrapping ctx.Err()) and
// writes the model, config.json, metrics.csv and predictions.png.
func (j *EmulatorJob) Train(ctx context.Context, progress train.EmulatorProgress) (TrainEmulatorResult, error) {
	doc, data, cfg, task := j.doc, j.data, j.doc.Config, &j.doc.Task
	resumedFrom := 0
	run := train.EmulatorRun{Ctx: ctx, CheckpointPath: filepath.Join(j.opts.Out, EmulatorCkptFile), CheckpointEvery: j.opts.CheckpointEvery,
		Resume: j.opts.Resume, Progress: func(s train.EmulatorStatus) {
			resumedFrom = s.ResumedFromEpoch
			if progress != nil {
				progress(s)
			}
		}}
	start := time.Now()
	m := &emulator.Model{Doc: doc}
	var res train.EmulatorResult
	var err error
	if doc.Kind == emulator.KindRate || doc.Timesteps > 0 {
		var initNet *model.Network
		if j.init != nil {
			initNet = j.init.Rate
		}
		if doc.Kind == emulator.KindRate {
			m.Rate, res, err = train.TrainRateEmulator(data.Train, data.Val, initNet, cfg, run)
		} else {
			m.Rate, res, err = train.TrainSpikingForward(data.Train, data.Val, initNet, doc.Timesteps, cfg, run)
		}
	} else {
		var initNet *emulator.Spiking
		if j.init != nil {
			initNet = j.init.Spiking
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
	if err != nil {
		return TrainEmulatorResult{}, err
	}
	nrmse, err := task.NRMSE(data.Val, m.Predictor())
	if err != nil {
		return TrainEmulatorResult{}, err
	}
	modelPath := filepath.Join(j.opts.Out, EmulatorModelFile)
	if err := writeEmulatorRun(j.opts.Out, m, res, data); err != nil {
		return TrainEmulatorResult{}, err
	}
	return TrainEmulatorResult{EmulatorResult: res, Kind: doc.Kind, Task: string(task.Kind), Model: modelPath,
		TrainWallS: wall.Seconds(), ValNRMSE: nrmse, TargetNames: task.TargetNames, ResumedAtEpoch: resumedFrom,
		SkippedMissingInput:  data.Train.MissingInput + data.Val.MissingInput,
		SkippedMissingTarget: data.Train.MissingTarget + data.Val.MissingTarget, Source: doc.Source, Out: j.opts.Out}, nil
}

// writeEmulatorRun writes a finished run's config.json, model, metrics.csv
// and predictions.png into dir.
func writeEmulatorRun(dir string, m *emulator.Model, res train.EmulatorResult, data *emulator.Data) error {
	if err := WriteJSONFile(filepath.Join(dir, EmulatorConfigFile), m.Doc); err != nil {
		return err
	}
	if err := emulator.Save(filepath.Join(dir, EmulatorModelFile), m); err != nil {
		return err
	}
	if err := formats.WriteFileAtomic(filepath.Join(dir, EmulatorMetricsFile), func(w io.Writer) error {
		return writeEmulatorMetrics(w, res.History)
	}); err != nil {
		return err
	}
	return writeEmulatorTraces(filepath.Join(dir, EmulatorTracesFile), m, data)
}
