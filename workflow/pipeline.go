package workflow

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/spikebridge/spikebridge/convert"
	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/train"
)

// OptionError is an option value a job cannot work with, or a state of
// the files an option names (resuming a run without a checkpoint). Msg
// names options in braces by their Go field names ("{Episodes} 0: want 1
// to 100"); Error writes them as they are, a front end (the CLI) writes
// its own names for them with Text.
type OptionError struct {
	Msg string
	// Invalid: the value itself is wrong (the CLI's usage error);
	// otherwise the files or the run do not allow it.
	Invalid bool
	Err     error // the cause, if any: written after Msg and ": "
}

var optionName = regexp.MustCompile(`\{[A-Z][A-Za-z0-9]*\}`)

// Text is the message with every option named by name(field).
func (e *OptionError) Text(name func(field string) string) string {
	s := OptionText(e.Msg, name)
	if e.Err != nil {
		if s == "" {
			return e.Err.Error()
		}
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *OptionError) Error() string { return e.Text(func(field string) string { return field }) }

// OptionText writes the options named in braces in s ("{BiasInput} yes")
// as name(field) names them; the jobs' errors and the texts of their
// results that mention options are written this way.
func OptionText(s string, name func(field string) string) string {
	return optionName.ReplaceAllStringFunc(s, func(m string) string { return name(m[1 : len(m)-1]) })
}
func (e *OptionError) Unwrap() error { return e.Err }

func invalidf(format string, args ...any) error {
	return &OptionError{Msg: fmt.Sprintf(format, args...), Invalid: true}
}

// StepProgress hears a job of a few long steps (DAgger rounds, the T
// values of a comparison): Begin with the number of steps, At when step
// done+1 starts, Note with a finished step's result, End. A nil
// StepProgress hears nothing.
type StepProgress interface {
	Begin(label string, steps int)
	At(done int, what string)
	Note(result string)
	End()
}

type noSteps struct{}

func (noSteps) Begin(string, int) {}
func (noSteps) At(int, string)    {}
func (noSteps) Note(string)       {}
func (noSteps) End()              {}

func stepsOrNone(p StepProgress) StepProgress {
	if p == nil {
		return noSteps{}
	}
	return p
}

// StageError is a failed pipeline stage; the outputs of the stages before
// it stay in Out.
type StageError struct {
	Stage, Out string
	Err        error
}

// Prefix is the message before the stage's own error.
func (e *StageError) Prefix() string {
	return fmt.Sprintf("pipeline stage %q failed (outputs of the stages before it are kept in %s)", e.Stage, e.Out)
}

func (e *StageError) Error() string { return e.Prefix() + ": " + e.Err.Error() }
func (e *StageError) Unwrap() error { return e.Err }

// PipelineStages is the number of stages of a pipeline that trains or
// imports, records, converts and compares twice, and reports.
const PipelineStages = 7

// Files the pipeline writes into its directory besides those of its
// stages (TrainDQN's model.safetensors, metrics.csv, learning_curve.png, ...).
const (
	PipelineStatesFile  = "states.npz"
	PipelineReportFile  = "report.md"
	PipelineStudentFile = "student-distill.safetensors"
	// Calibration data: the distillation recipe of DESIGN.md (60 episodes
	// of the ANN with 20 % random actions, so that states off its own
	// trajectory are labelled too).
	pipelineRecordEpisodes = 60
	pipelineRecordEpsilon  = 0.2
	// The baseline SNN's default T (it is measured over the whole sweep).
	pipelineBaselineT = 64
)

// The conversion methods the pipeline compares, as its results and file
// names spell them.
var (
	MethodBaseline = string(convert.MethodBaseline)
	MethodDistill  = string(convert.MethodDistill)
)

// PipelineOptions says what the pipeline trains or imports, how it
// compares, and where everything goes.
type PipelineOptions struct {
	Out   string
	Seed  uint64 // training, recording, conversion and the compared episodes
	Steps int    // DQN training steps
	Env   string
	// FromPyTorch imports this network (a PyTorch .pt, a Stable-Baselines3
	// .zip or a spikebridge ANN model file) instead of training one;
	// Import's Arch, Prefix, Layout, Head and Activation apply to it.
	FromPyTorch string
	Import      ImportPyTorchOptions
	Timesteps   []int
	Episodes    int
	// Force starts afresh in a non-empty Out; Resume continues an
	// interrupted training there and redoes the later stages.
	Force, Resume bool
	Command       string // the command line the report shows
	// Train and Distill are the settings the train and distill stages start
	// from (nil: the defaults); the pipeline sets their seed, environment,
	// steps and files. A stage's command line shows what the pipeline sets.
	Train   *train.Config
	Distill *ConvertOptions
	// OnStage hears a stage start (n of stages), OnNote a choice the run
	// made; TrainProgress and StepProgress hear the stages' progress.
	OnStage       func(n, stages int, name, command string)
	OnNote        func(note string)
	TrainProgress TrainProgress
	StepProgress  StepProgress
	// Interrupt, when set, gives the context of the training stage and its
	// release (the CLI's signal handling); nil: not interruptible.
	Interrupt func() (context.Context, func())
}

// DefaultPipelineOptions are the pipeline's defaults (Out aside).
func DefaultPipelineOptions() PipelineOptions {
	return PipelineOptions{Seed: 1, Steps: train.DefaultConfig().Steps, Env: "cartpole-v1",
		Timesteps: []int{8, 16, 32, 64, 128, 256}, Episodes: 100}
}

// PipelineMethod is one conversion method's files and figures.
type PipelineMethod struct {
	Method     string            `json:"method"`
	SNNFile    string            `json:"snn_file"`
	SourceFile string            `json:"source_file,omitempty"`
	CompareDir string            `json:"compare_dir"`
	Convert    ConvertResult     `json:"convert"`
	Results    []convert.TResult `json:"results"`
	comparison *convert.Comparison
	compare    CompareOptions
}

// PipelineCompareDoc is the pipeline's compare.json: DESIGN.md's compare
// fields for the best method at the top level, and every method's results.
type PipelineCompareDoc struct {
	ANNFile    string `json:"ann_file"`
	Env        string `json:"env"`
	BestMethod string `json:"best_method"`
	SNNFile    string `json:"snn_file"`
	*convert.Comparison
	Methods []*PipelineMethod `json:"methods"`
}

// PipelineStage is one stage run: its name, its equivalent command and its
// wall time.
type PipelineStage struct {
	Name    string  `json:"name"`
	Command string  `json:"command"`
	WallS   float64 `json:"wall_s"`
}

// PipelineResult is what the pipeline did (pipeline --json).
type PipelineResult struct {
	Out        string              `json:"out"`
	Report     string              `json:"report"`
	Seed       uint64              `json:"seed"`
	ModelFile  string              `json:"model_file"`
	Imported   string              `json:"imported,omitempty"`
	Notes      []string            `json:"notes,omitempty"`
	Train      *train.Result       `json:"train,omitempty"`
	Record     RecordResult        `json:"record"`
	Compare    *PipelineCompareDoc `json:"compare"`
	Stages     []PipelineStage     `json:"stages"`
	WallS      float64             `json:"wall_s"`
	BestMethod string              `json:"best_method"`
}

// pipelineRun carries one run's state from stage to stage.
type pipelineRun struct {
	opts    PipelineOptions
	res     PipelineResult
	stageNo int
	stages  int
}

// Pipeline trains a DQN (or imports one), records states, converts it with
// the baseline and the distill method, compares both SNNs with it and
// writes compare.json, compare.csv, the plots and report.md, all into
// opts.Out. A failing stage returns a *StageError; the files of the stages
// before it stay.
func Pipeline(opts PipelineOptions) (PipelineResult, error) {
	if err := startPipeline(opts); err != nil {
		return PipelineResult{}, err
	}
	start := time.Now()
	r := &pipelineRun{opts: opts, stages: PipelineStages}
	r.res = PipelineResult{Out: opts.Out, Seed: opts.Seed, ModelFile: r.path(DQNModelFile), Report: r.path(PipelineReportFile)}
	if err := r.model(); err != nil {
		return PipelineResult{}, err
	}
	rec := RecordOptions{Model: r.res.ModelFile, Env: opts.Env, Episodes: pipelineRecordEpisodes, Seed: opts.Seed,
		Epsilon: pipelineRecordEpsilon, Out: r.path(PipelineStatesFile)}
	if err := r.stage("record", recordCommand(rec), func() (err error) { r.res.Record, err = Record(rec); return err }); err != nil {
		return PipelineResult{}, err
	}
	methods, err := r.methods()
	if err != nil {
		return PipelineResult{}, err
	}
	if err := r.convertAndCompare(methods); err != nil {
		return PipelineResult{}, err
	}
	best := methods[len(methods)-1] // distill: convert's default, the best method we have
	r.res.BestMethod = best.Method
	r.res.Compare = &PipelineCompareDoc{ANNFile: r.res.ModelFile, Env: opts.Env, BestMethod: best.Method, SNNFile: best.SNNFile,
		Comparison: best.comparison, Methods: methods}
	if err := r.stage("report", "(pipeline only)", func() error { return r.writeReport(methods, best) }); err != nil {
		return PipelineResult{}, err
	}
	r.res.WallS = time.Since(start).Seconds()
	return r.res, nil
}

// startPipeline checks opts and makes opts.Out.
func startPipeline(opts PipelineOptions) error {
	if err := convert.CheckTimesteps(opts.Timesteps); err != nil {
		return invalidf("{Timesteps}: %v", err)
	}
	if opts.Episodes < 1 || opts.Episodes > MaxEpisodes {
		return invalidf("{Episodes} %d: want 1 to %d", opts.Episodes, MaxEpisodes)
	}
	if opts.Force && opts.Resume {
		return invalidf("{Force} and {Resume} exclude each other")
	}
	if entries, err := os.ReadDir(opts.Out); err == nil && holdsFiles(entries) && !opts.Force && !opts.Resume {
		return invalidf("{Out} %s is not empty: pass {Force} to start afresh there, {Resume} to continue it, or another {Out}", opts.Out)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return &OptionError{Msg: "pipeline: {Out}", Err: err}
	}
	if err := os.MkdirAll(opts.Out, 0o755); err != nil {
		return fmt.Errorf("pipeline: %w", err)
	}
	return nil
}

// holdsFiles says whether a directory listing holds anything besides the
// run-directory lock (the CLI locks the directory before the run).
func holdsFiles(entries []os.DirEntry) bool {
	for _, e := range entries {
		if e.Name() != formats.RunLockFile {
			return true
		}
	}
	return false
}

// stage runs one stage, timing it and naming it in its error.
func (r *pipelineRun) stage(name, command string, run func() error) error {
	r.stageNo++
	if r.opts.OnStage != nil {
		r.opts.OnStage(r.stageNo, r.stages, name, command)
	}
	start := time.Now()
	if err := run(); err != nil {
		return &StageError{Stage: name, Out: r.opts.Out, Err: err}
	}
	r.res.Stages = append(r.res.Stages, PipelineStage{Name: name, Command: command, WallS: time.Since(start).Seconds()})
	return nil
}

func (r *pipelineRun) path(name string) string { return filepath.Join(r.opts.Out, name) }

// model is stage 1: train the DQN into Out, or import FromPyTorch.
func (r *pipelineRun) model() error {
	opts := r.opts
	if opts.FromPyTorch == "" {
		return r.trainDQN()
	}
	r.res.Imported = opts.FromPyTorch
	if kind, err := formats.ModelKind(opts.FromPyTorch); err == nil {
		// Already a spikebridge model file: copied as the ANN.
		if kind != formats.ModelKindANN {
			return invalidf("{FromPyTorch} %s is a spikebridge %q model file; the pipeline converts an ANN (compare a spiking file with {CompareSNN})", opts.FromPyTorch, kind)
		}
		return r.stage("import", "copy "+opts.FromPyTorch+" "+r.res.ModelFile, func() error {
			net, meta, err := formats.LoadModel(opts.FromPyTorch)
			if err != nil {
				return err
			}
			return formats.SaveModel(r.res.ModelFile, net, meta)
		})
	}
	imp := DefaultImportPyTorchOptions()
	imp.Input, imp.Output = opts.FromPyTorch, r.res.ModelFile
	imp.Arch, imp.Prefix, imp.Layout, imp.Head, imp.Activation = opts.Import.Arch, opts.Import.Prefix, opts.Import.Layout, opts.Import.Head, opts.Import.Activation
	return r.stage("import", importCommand(imp), func() error { _, err := ImportPyTorch(imp); return err })
}

// trainDQN is stage 1 of a trained run.
func (r *pipelineRun) trainDQN() error {
	opts := r.opts
	t := TrainDQNOptions{Config: train.DefaultConfig(), Threads: 1, Out: opts.Out, Force: opts.Force,
		Set: map[string]bool{"env": true, "steps": true, "seed": true}, Progress: opts.TrainProgress}
	if opts.Train != nil {
		t.Config = *opts.Train
	}
	t.Config.Env, t.Config.Steps, t.Config.Seed = opts.Env, opts.Steps, opts.Seed
	if opts.Resume {
		_, err := os.Stat(r.path(DQNCheckpointFile))
		t.Resume = err == nil
	}
	return r.stage("train dqn", trainCommand(t), func() error {
		ctx := context.Background()
		if opts.Interrupt != nil {
			var stop func()
			ctx, stop = opts.Interrupt()
			defer stop()
		}
		res, _, err := TrainDQN(ctx, t)
		if err == nil {
			r.res.Train = &res
		}
		return err
	})
}

// methods are the conversions of the ANN: baseline and distill, or only
// distill for a network that is not a ReLU network.
func (r *pipelineRun) methods() ([]*PipelineMethod, error) {
	methods := []*PipelineMethod{
		{Method: MethodBaseline, SNNFile: r.path("snn-" + MethodBaseline + ".safetensors")},
		{Method: MethodDistill, SNNFile: r.path("snn-" + MethodDistill + ".safetensors"), SourceFile: r.path(PipelineStudentFile)},
	}
	ann, err := formats.LoadANN(r.res.ModelFile)
	if err != nil {
		return nil, err
	}
	if err := convert.CheckConvertible(ann); errors.Is(err, convert.ErrNotReLU) {
		// A tanh (or other non-ReLU) network: no direct conversion; the
		// distilled student is a ReLU network trained on its actions.
		note := fmt.Sprintf("the ANN is not a ReLU network (%v); the baseline conversion is skipped and only the distilled ReLU student is converted", err)
		if r.opts.OnNote != nil {
			r.opts.OnNote(note)
		}
		r.res.Notes = append(r.res.Notes, note)
		methods = methods[1:]
		r.stages -= 2 // no convert baseline, no compare baseline
	}
	return methods, nil
}

// convertAndCompare converts the ANN with every method, then compares
// every SNN with it.
func (r *pipelineRun) convertAndCompare(methods []*PipelineMethod) error {
	opts := r.opts
	for _, m := range methods {
		c := DefaultConvertOptions()
		if m.Method == MethodDistill && opts.Distill != nil {
			c = *opts.Distill
		}
		c.Model, c.Calib, c.Method, c.Out, c.Progress = r.res.ModelFile, r.path(PipelineStatesFile), m.Method, m.SNNFile, opts.StepProgress
		if m.Method == MethodBaseline {
			c.Timesteps = pipelineBaselineT
		} else {
			c.Env, c.Classifier.Seed, c.StudentOut = opts.Env, opts.Seed, m.SourceFile
		}
		if err := r.stage("convert "+m.Method, convertCommand(c), func() (err error) { m.Convert, err = Convert(c); return err }); err != nil {
			return err
		}
	}
	for _, m := range methods {
		m.CompareDir = r.path("compare-" + m.Method)
		m.compare = CompareOptions{ANN: r.res.ModelFile, SNN: m.SNNFile, Source: m.SourceFile, Env: opts.Env,
			Episodes: opts.Episodes, Seed: opts.Seed, Timesteps: opts.Timesteps, DecisiveMargin: DefaultDecisiveMargin,
			Out: m.CompareDir, Progress: opts.StepProgress}
		if err := r.stage("compare "+m.Method, compareCommand(m.compare), func() error {
			doc, err := Compare(m.compare)
			m.comparison, m.Results = doc.Comparison, nil
			if err == nil {
				m.Results = doc.Results
			}
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}
