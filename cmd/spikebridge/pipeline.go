package main

import (
	"bytes"
	"encoding/csv"
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

	"github.com/spikebridge/spikebridge/convert"
	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/report"
	"github.com/spikebridge/spikebridge/train"
)

// pipelineStages is the number of stages the help lists and the progress
// lines count ([n/7]).
const pipelineStages = 7

// Files the pipeline writes into --out besides those of its stages' verbs
// (train dqn's model.safetensors, metrics.csv, learning_curve.png, ...).
const (
	pipelineStatesFile  = "states.npz"
	pipelineReportFile  = "report.md"
	pipelineStudentFile = "student-distill.safetensors"
	// Calibration data: the distillation recipe of DESIGN.md (60 episodes
	// of the ANN with 20 % random actions, so that states off its own
	// trajectory are labelled too).
	pipelineRecordEpisodes = 60
	pipelineRecordEpsilon  = 0.2
	// The baseline SNN's default T (it is measured over the whole sweep).
	pipelineBaselineT = 64
)

// PipelineOptions holds the flags of `spikebridge pipeline`.
type PipelineOptions struct {
	IO          *IOStreams
	Out         string
	Seed        uint64
	Steps       int
	FromPyTorch string
	// The import flags for --from-pytorch (as `import pytorch` takes them).
	ImportArch, ImportPrefix, ImportLayout, ImportHead, ImportActivation string
	Timesteps                                                            []int
	Episodes                                                             int
	Env                                                                  string
	JSON                                                                 bool
	Force                                                                bool
	Resume                                                               bool
	// Extra flags appended to a stage's verb (tests use them for tiny runs).
	trainArgs, convertArgs []string
	command                string
}

// NewCmdPipeline parses flags into PipelineOptions; runF replaces runPipeline in tests.
func NewCmdPipeline(ios *IOStreams, runF func(*PipelineOptions) error) *cobra.Command {
	opts := &PipelineOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "pipeline [--out DIR] [--seed S] [--steps N] [--from-pytorch FILE.pt] [--timesteps LIST]",
		Short: "Train a DQN (or import one), convert it to spiking networks and compare them, with a report",
		Long: `Run the whole path in one go, each stage being one of the verbs:

  1. train dqn (defaults, --steps, --seed)  or  import pytorch --from-pytorch FILE.pt
  2. record: 60 episodes of the ANN with 20 % random actions -> states.npz
  3. convert --method baseline -> snn-baseline.safetensors
  4. convert --method distill (the best method) -> snn-distill.safetensors
  5. compare snn-baseline with the ANN over --episodes and the --timesteps sweep
  6. compare snn-distill the same way
  7. report: compare.json, compare.csv, plots and report.md

Everything lands in --out (default runs/pipeline-<seed>). An existing non-empty
directory is refused unless --force (start afresh) or --resume (continue an
interrupted training from its checkpoint and redo the later stages). A failing
stage is named and the outputs of the stages before it stay.`,
		Example: `  spikebridge pipeline
  spikebridge pipeline --seed 2 --out runs/p2
  spikebridge pipeline --from-pytorch policy.pt --out runs/imported`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Out == "" {
				opts.Out = filepath.Join("runs", fmt.Sprintf("pipeline-%d", opts.Seed))
			}
			if opts.FromPyTorch != "" && cmd.Flags().Changed("steps") {
				return usageErrorf("--steps and --from-pytorch exclude each other: an imported network is not trained")
			}
			for _, name := range []string{"arch", "prefix", "layout", "head", "activation"} {
				if opts.FromPyTorch == "" && cmd.Flags().Changed(name) {
					return usageErrorf("--%s is an import flag: it needs --from-pytorch FILE", name)
				}
			}
			opts.command = "spikebridge pipeline"
			cmd.Flags().Visit(func(f *pflag.Flag) { opts.command += " --" + f.Name + "=" + f.Value.String() })
			if runF != nil {
				return runF(opts)
			}
			return runPipeline(opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Out, "out", "", "output directory (default runs/pipeline-<seed>)")
	f.Uint64Var(&opts.Seed, "seed", 1, "seed of training, recording, conversion and the compared episodes")
	f.IntVar(&opts.Steps, "steps", train.DefaultConfig().Steps, "DQN training steps")
	f.StringVar(&opts.FromPyTorch, "from-pytorch", "", "import this network instead of training one: a PyTorch .pt, a Stable-Baselines3 .zip or a spikebridge ANN model file")
	f.StringVar(&opts.ImportArch, "arch", "", "with --from-pytorch: import pytorch's --arch")
	f.StringVar(&opts.ImportPrefix, "prefix", "", "with --from-pytorch: import pytorch's --prefix")
	f.StringVar(&opts.ImportLayout, "layout", "", "with --from-pytorch: import pytorch's --layout")
	f.StringVar(&opts.ImportHead, "head", "", "with --from-pytorch: import pytorch's --head")
	f.StringVar(&opts.ImportActivation, "activation", "", "with --from-pytorch: import pytorch's --activation")
	f.IntSliceVar(&opts.Timesteps, "timesteps", []int{8, 16, 32, 64, 128, 256}, "T values of the comparison")
	f.IntVar(&opts.Episodes, "episodes", 100, "compared episodes (the same initial states for ANN and SNNs)")
	f.StringVar(&opts.Env, "env", "cartpole-v1", "environment: cartpole-v1 or cartpole-v0")
	f.BoolVar(&opts.JSON, "json", false, "print one JSON document")
	f.BoolVar(&opts.Force, "force", false, "write into a non-empty --out, starting afresh")
	f.BoolVar(&opts.Resume, "resume", false, "continue an interrupted pipeline in --out (training resumes from its checkpoint)")
	return cmd
}

// stageOptions parses args with a verb's own command, so a stage runs with
// exactly the defaults and checks of `spikebridge <verb> args...`.
func stageOptions[O any](ios *IOStreams, newCmd func(*IOStreams, func(*O) error) *cobra.Command, args []string) (*O, error) {
	var got *O
	cmd := newCmd(ios, func(o *O) error { got = o; return nil })
	cmd.SetArgs(append([]string{}, args...))
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	if err := cmd.Execute(); err != nil {
		return nil, err
	}
	if got == nil {
		return nil, fmt.Errorf("internal error: %s %v did not parse", cmd.Name(), args)
	}
	return got, nil
}

// pipelineMethod is one conversion method's files and figures.
type pipelineMethod struct {
	Method     string            `json:"method"`
	SNNFile    string            `json:"snn_file"`
	SourceFile string            `json:"source_file,omitempty"`
	CompareDir string            `json:"compare_dir"`
	Convert    convertResult     `json:"convert"`
	Results    []convert.TResult `json:"results"`
	comparison *convert.Comparison
	compare    *CompareOptions
}

// pipelineCompareDoc is the pipeline's compare.json: DESIGN.md's compare
// fields for the best method at the top level, and every method's results.
type pipelineCompareDoc struct {
	ANNFile    string `json:"ann_file"`
	Env        string `json:"env"`
	BestMethod string `json:"best_method"`
	SNNFile    string `json:"snn_file"`
	*convert.Comparison
	Methods []*pipelineMethod `json:"methods"`
}

type pipelineStage struct {
	Name    string  `json:"name"`
	Command string  `json:"command"`
	WallS   float64 `json:"wall_s"`
}

// pipelineResult is the --json document of pipeline.
type pipelineResult struct {
	Out        string              `json:"out"`
	Report     string              `json:"report"`
	Seed       uint64              `json:"seed"`
	ModelFile  string              `json:"model_file"`
	Imported   string              `json:"imported,omitempty"`
	Notes      []string            `json:"notes,omitempty"`
	Train      *train.Result       `json:"train,omitempty"`
	Record     recordResult        `json:"record"`
	Compare    *pipelineCompareDoc `json:"compare"`
	Stages     []pipelineStage     `json:"stages"`
	WallS      float64             `json:"wall_s"`
	BestMethod string              `json:"best_method"`
}

// pipelineRun carries one run's state from stage to stage.
type pipelineRun struct {
	opts    *PipelineOptions
	res     pipelineResult
	ios     *IOStreams // the stages' streams: stdout discarded, progress on stderr
	stageNo int
	stages  int
}

// stage runs one stage, timing it and naming it in its error.
func (r *pipelineRun) stage(name, command string, run func() error) error {
	r.stageNo++
	fmt.Fprintf(r.opts.IO.ErrOut, "pipeline [%d/%d] %s: %s\n", r.stageNo, r.stages, name, command)
	start := time.Now()
	if err := run(); err != nil {
		return fmt.Errorf("pipeline stage %q failed (outputs of the stages before it are kept in %s): %w", name, r.opts.Out, err)
	}
	r.res.Stages = append(r.res.Stages, pipelineStage{Name: name, Command: command, WallS: time.Since(start).Seconds()})
	return nil
}

func (r *pipelineRun) path(name string) string { return filepath.Join(r.opts.Out, name) }

// holdsFiles says whether a directory listing holds anything besides the run-directory
// lock, which the guard puts into --out before the verb runs.
func holdsFiles(entries []os.DirEntry) bool {
	for _, e := range entries {
		if e.Name() != formats.RunLockFile {
			return true
		}
	}
	return false
}

func runPipeline(opts *PipelineOptions) error {
	if err := convert.CheckTimesteps(opts.Timesteps); err != nil {
		return usageErrorf("--timesteps: %v", err)
	}
	if opts.Episodes < 1 || opts.Episodes > maxCLIEpisodes {
		return usageErrorf("--episodes %d: want 1 to %d", opts.Episodes, maxCLIEpisodes)
	}
	if opts.Force && opts.Resume {
		return usageErrorf("--force and --resume exclude each other")
	}
	if entries, err := os.ReadDir(opts.Out); err == nil && holdsFiles(entries) && !opts.Force && !opts.Resume {
		return usageErrorf("--out %s is not empty: pass --force to start afresh there, --resume to continue it, or another --out", opts.Out)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("pipeline: --out: %w", err)
	}
	if err := os.MkdirAll(opts.Out, 0o755); err != nil {
		return fmt.Errorf("pipeline: %w", err)
	}
	start := time.Now()
	r := &pipelineRun{opts: opts, stages: pipelineStages,
		ios: &IOStreams{In: opts.IO.In, Out: io.Discard, ErrOut: opts.IO.ErrOut}}
	r.res = pipelineResult{Out: opts.Out, Seed: opts.Seed, ModelFile: r.path(dqnModelFile), Report: r.path(pipelineReportFile)}
	seed := strconv.FormatUint(opts.Seed, 10)

	if err := r.model(seed); err != nil {
		return err
	}
	recArgs := []string{"--model", r.res.ModelFile, "--env", opts.Env, "--episodes", strconv.Itoa(pipelineRecordEpisodes),
		"--seed", seed, "--epsilon", strconv.FormatFloat(pipelineRecordEpsilon, 'g', -1, 64), "-o", r.path(pipelineStatesFile)}
	if err := r.stage("record", verbLine("record", recArgs), func() error {
		var err error
		r.res.Record, err = recordToFile(&RecordOptions{IO: r.ios, Model: r.res.ModelFile, Env: opts.Env,
			Episodes: pipelineRecordEpisodes, Seed: opts.Seed, Epsilon: pipelineRecordEpsilon, Out: r.path(pipelineStatesFile)})
		return err
	}); err != nil {
		return err
	}

	methods := []*pipelineMethod{
		{Method: methodBaseline, SNNFile: r.path("snn-" + methodBaseline + ".safetensors")},
		{Method: methodDistill, SNNFile: r.path("snn-" + methodDistill + ".safetensors"), SourceFile: r.path(pipelineStudentFile)},
	}
	if ann, err := formats.LoadANN(r.res.ModelFile); err != nil {
		return err
	} else if err := convert.CheckConvertible(ann); errors.Is(err, convert.ErrNotReLU) {
		// A tanh (or other non-ReLU) network: no direct conversion; the
		// distilled student is a ReLU network trained on its actions.
		note := fmt.Sprintf("the ANN is not a ReLU network (%v); the baseline conversion is skipped and only the distilled ReLU student is converted", err)
		fmt.Fprintf(r.opts.IO.ErrOut, "pipeline: %s\n", note)
		r.res.Notes = append(r.res.Notes, note)
		methods = methods[1:]
		r.stages -= 2 // no convert baseline, no compare baseline
	}
	for _, m := range methods {
		args := []string{"--model", r.res.ModelFile, "--calib", r.path(pipelineStatesFile), "--method", m.Method, "-o", m.SNNFile}
		if m.Method == methodBaseline {
			args = append(args, "--timesteps", strconv.Itoa(pipelineBaselineT))
		} else {
			args = append(args, "--env", opts.Env, "--seed", seed, "--student-out", m.SourceFile)
			args = append(args, opts.convertArgs...)
		}
		if err := r.stage("convert "+m.Method, verbLine("convert", args), func() error {
			o, err := stageOptions(r.ios, NewCmdConvert, args)
			if err != nil {
				return err
			}
			m.Convert, err = convertToFile(o)
			return err
		}); err != nil {
			return err
		}
	}
	for _, m := range methods {
		m.CompareDir = r.path("compare-" + m.Method)
		args := []string{"--ann", r.res.ModelFile, "--snn", m.SNNFile, "--env", opts.Env, "--episodes", strconv.Itoa(opts.Episodes),
			"--seed", seed, "--timesteps", intList(opts.Timesteps), "--out", m.CompareDir}
		if m.SourceFile != "" {
			args = append(args, "--source", m.SourceFile)
		}
		if err := r.stage("compare "+m.Method, verbLine("compare", args), func() error {
			o := &CompareOptions{IO: r.ios, ANN: r.res.ModelFile, SNN: m.SNNFile, Source: m.SourceFile, Env: opts.Env,
				Episodes: opts.Episodes, Seed: opts.Seed, Timesteps: opts.Timesteps, DecisiveMargin: defaultDecisiveMargin,
				Out: m.CompareDir, episodesSet: true}
			m.compare = o
			var err error
			m.comparison, _, err = compareToDir(o)
			if err == nil {
				m.Results = m.comparison.Results
			}
			return err
		}); err != nil {
			return err
		}
	}
	best := methods[len(methods)-1] // distill: convert's default, the best method we have
	r.res.BestMethod = best.Method
	r.res.Compare = &pipelineCompareDoc{ANNFile: r.res.ModelFile, Env: opts.Env, BestMethod: best.Method, SNNFile: best.SNNFile,
		Comparison: best.comparison, Methods: methods}
	if err := r.stage("report", "(pipeline only)", func() error { return r.writeReport(methods, best) }); err != nil {
		return err
	}
	r.res.WallS = time.Since(start).Seconds()
	if opts.JSON {
		enc := json.NewEncoder(opts.IO.Out)
		return enc.Encode(r.res)
	}
	return r.printSummary(methods)
}

// model is stage 1: train the DQN into --out, or import --from-pytorch.
func (r *pipelineRun) model(seed string) error {
	opts := r.opts
	if opts.FromPyTorch != "" {
		r.res.Imported = opts.FromPyTorch
		if kind, err := formats.ModelKind(opts.FromPyTorch); err == nil {
			// Already a spikebridge model file: copied as the ANN.
			if kind != formats.ModelKindANN {
				return usageErrorf("--from-pytorch %s is a spikebridge %q model file; the pipeline converts an ANN (compare a spiking file with `compare --snn`)", opts.FromPyTorch, kind)
			}
			return r.stage("import", "copy "+opts.FromPyTorch+" "+r.res.ModelFile, func() error {
				net, meta, err := formats.LoadModel(opts.FromPyTorch)
				if err != nil {
					return err
				}
				return formats.SaveModel(r.res.ModelFile, net, meta)
			})
		}
		args := []string{opts.FromPyTorch, "-o", r.res.ModelFile, "--json"}
		for _, f := range [][2]string{{"--arch", opts.ImportArch}, {"--prefix", opts.ImportPrefix}, {"--layout", opts.ImportLayout}, {"--head", opts.ImportHead}, {"--activation", opts.ImportActivation}} {
			if f[1] != "" {
				args = append(args, f[0], f[1])
			}
		}
		return r.stage("import", verbLine("import pytorch", args), func() error {
			o, err := stageOptions(r.ios, NewCmdImportPyTorch, args)
			if err != nil {
				return err
			}
			return runImportPyTorch(o)
		})
	}
	args := []string{"--env", opts.Env, "--steps", strconv.Itoa(opts.Steps), "--seed", seed, "--out", opts.Out}
	args = append(args, opts.trainArgs...)
	if opts.Resume {
		if _, err := os.Stat(r.path(dqnCheckpointFile)); err == nil {
			args = append(args, "--resume")
		}
	}
	if opts.Force {
		args = append(args, "--force")
	}
	return r.stage("train dqn", verbLine("train dqn", args), func() error {
		o, err := stageOptions(r.ios, NewCmdTrainDQN, args)
		if err != nil {
			return err
		}
		res, _, err := trainDQNRun(o)
		if err == nil {
			r.res.Train = &res
		}
		return err
	})
}

// verbLine renders a stage as the spikebridge command that does the same.
func verbLine(verb string, args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " \t'\"") {
			a = strconv.Quote(a)
		}
		quoted[i] = a
	}
	return "spikebridge " + verb + " " + strings.Join(quoted, " ")
}

func intList(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

var methodDescriptions = map[string]string{
	methodBaseline: "DESIGN.md's baseline: IF neurons, layer-wise 99.9th-percentile normalisation, reset by subtraction, " +
		"v(0) = θ/2, membrane readout.",
	methodDistill: "a student MLP classifier is trained (Gorgonia, cross-entropy) on the ANN's actions over the " +
		"recorded states with clip-floor activations, improved by DAgger rounds on the states its SNN visits, and " +
		"converted with unit scales and membrane readout.",
}

// writeReport writes compare.json, compare.csv, the plots and report.md.
func (r *pipelineRun) writeReport(methods []*pipelineMethod, best *pipelineMethod) error {
	opts := r.opts
	data, err := json.MarshalIndent(r.res.Compare, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFile(r.path(compareJSONFile), func(w io.Writer) error { _, err := w.Write(append(data, '\n')); return err }); err != nil {
		return err
	}
	if err := writeFile(r.path(compareCSVFile), func(w io.Writer) error { return writePipelineCSV(w, methods) }); err != nil {
		return err
	}
	cmp := best.comparison
	ts := make([]int, len(cmp.Results))
	for i, t := range cmp.Results {
		ts[i] = t.Timesteps
	}
	var agree []report.Series
	var returns []report.ReturnSeries
	for _, m := range methods {
		own, source := make([]float64, len(ts)), make([]float64, len(ts))
		rs := report.ReturnSeries{Name: m.Method, Mean: make([]float64, len(ts)), Std: make([]float64, len(ts))}
		hasSource := true
		for i, t := range m.Results {
			own[i] = t.AgreementOwn
			rs.Mean[i], rs.Std[i] = t.SNNReturnsMean, t.SNNReturnsStd
			if t.AgreementSource != nil {
				source[i] = *t.AgreementSource
			} else {
				hasSource = false
			}
		}
		agree = append(agree, report.Series{Name: m.Method + ": with the ANN, SNN's own trajectory", Values: own})
		if hasSource {
			agree = append(agree, report.Series{Name: m.Method + ": with its source (student), ANN's states", Values: source})
		}
		returns = append(returns, rs)
	}
	what := fmt.Sprintf("DQN seed %d, %s", opts.Seed, opts.Env)
	if opts.FromPyTorch != "" {
		what = fmt.Sprintf("%s, %s", filepath.Base(opts.FromPyTorch), opts.Env)
	}
	if err := writeFile(r.path(report.FigureAgreement), func(w io.Writer) error {
		return report.WriteAgreementPlot(w, "Action agreement per T: "+what, ts, agree, report.DSQNReferences)
	}); err != nil {
		return err
	}
	if err := writeFile(r.path(report.FigureReturn), func(w io.Writer) error {
		return report.WriteReturnsPlot(w, fmt.Sprintf("Return over %d episodes per T: %s", cmp.Episodes, what), ts, returns,
			cmp.ANN.ReturnsMean, cmp.ANN.ReturnsStd)
	}); err != nil {
		return err
	}
	// The best method's scatter and raster, drawn into --out as compare does.
	top := *best.compare
	top.Out = opts.Out
	ann, err := formats.LoadANN(r.res.ModelFile)
	if err != nil {
		return err
	}
	if err := writeScatterAndRaster(&top, cmp, ann); err != nil {
		return err
	}

	sum := report.PipelineSummary{Env: opts.Env, Network: ann.String(), Command: opts.command, Seed: opts.Seed,
		Episodes: cmp.Episodes, ANNReturnMean: cmp.ANN.ReturnsMean, ANNReturnStd: cmp.ANN.ReturnsStd, ANNMACs: cmp.ANN.MACs,
		DecisiveMargin: cmp.DecisiveMargin, States: r.res.Record.States, StatesEpisodes: r.res.Record.Episodes,
		StatesEpsilon: r.res.Record.Epsilon, Best: best.Method, Imported: opts.FromPyTorch}
	if tr := r.res.Train; tr != nil {
		sum.Trained = &report.TrainedSummary{Steps: tr.Steps, EvalEpisodes: tr.EvalEpisodes, EvalMean: tr.EvalMean,
			EvalMin: tr.EvalMin, EvalMax: tr.EvalMax, SolvedStep: tr.SolvedStep, WallS: tr.TrainWallS}
	}
	for _, m := range methods {
		ms := report.MethodSummary{Name: m.Method, File: filepath.Base(m.SNNFile), Description: methodDescriptions[m.Method]}
		for _, t := range m.Results {
			ms.Rows = append(ms.Rows, report.MethodRow{T: t.Timesteps, ReturnMean: t.SNNReturnsMean, ReturnStd: t.SNNReturnsStd,
				AgreeOwn: t.AgreementOwn, AgreeDecisive: t.AgreementDecisive, AgreeFixed: t.AgreementFixed,
				AgreeSource: t.AgreementSource, Spikes: t.SpikesPerDecision, SynOps: t.SynOpsPerDecision})
		}
		sum.Methods = append(sum.Methods, ms)
	}
	for _, st := range r.res.Stages {
		sum.Stages = append(sum.Stages, report.StageTime{Name: st.Name, Command: st.Command, WallS: st.WallS})
	}
	sum.Files = r.fileNotes(methods)
	return writeFile(r.path(pipelineReportFile), func(w io.Writer) error { return report.WritePipelineReport(w, sum) })
}

func (r *pipelineRun) fileNotes(methods []*pipelineMethod) []report.FileNote {
	notes := []report.FileNote{{Name: dqnModelFile, What: "the ANN (safetensors; the network every SNN was converted from)"}}
	if r.res.Train != nil {
		notes = append(notes,
			report.FileNote{Name: dqnMetricsFile, What: "the training log, one row per episode and evaluation"},
			report.FileNote{Name: dqnFinalFile, What: "the last training network (model.safetensors is the best kept one)"},
			report.FileNote{Name: dqnConfigFile + ", " + dqnCheckpointFile, What: "the training settings and its checkpoint (`train dqn --resume`)"})
	}
	notes = append(notes, report.FileNote{Name: pipelineStatesFile, What: "the recorded calibration states, actions, Q-values and episodes"})
	for _, m := range methods {
		notes = append(notes, report.FileNote{Name: filepath.Base(m.SNNFile), What: "the " + m.Method + " SNN"})
		if m.SourceFile != "" {
			notes = append(notes, report.FileNote{Name: filepath.Base(m.SourceFile), What: "the student ANN the " + m.Method + " SNN was converted from"})
		}
		notes = append(notes, report.FileNote{Name: filepath.Base(m.CompareDir) + "/", What: "`spikebridge compare`'s full output for " + m.Method})
	}
	notes = append(notes,
		report.FileNote{Name: compareJSONFile, What: "every figure of the table (DESIGN.md's compare fields for " + r.res.BestMethod + " at the top, all methods under `methods`)"},
		report.FileNote{Name: compareCSVFile, What: "the same, one row per method and T"})
	return notes
}

var pipelineCSVHeader = append([]string{"method"}, compareCSVHeader...)

func writePipelineCSV(w io.Writer, methods []*pipelineMethod) error {
	var buf bytes.Buffer
	for i, m := range methods {
		buf.Reset()
		if err := writeCompareCSV(&buf, m.comparison); err != nil {
			return err
		}
		rows, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			return err
		}
		cw := csv.NewWriter(w)
		if i == 0 {
			if err := cw.Write(pipelineCSVHeader); err != nil {
				return err
			}
		}
		for _, row := range rows[1:] {
			if err := cw.Write(append([]string{m.Method}, row...)); err != nil {
				return err
			}
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
	}
	return nil
}

// printSummary prints the report's table and where the report is.
func (r *pipelineRun) printSummary(methods []*pipelineMethod) error {
	w := r.opts.IO.Out
	cmp := r.res.Compare.Comparison
	if tr := r.res.Train; tr != nil {
		fmt.Fprintf(w, "DQN trained %d steps (seed %d) in %.1f s: greedy eval %.1f over %d episodes\n",
			tr.Steps, r.opts.Seed, tr.TrainWallS, tr.EvalMean, tr.EvalEpisodes)
	} else {
		fmt.Fprintf(w, "ANN imported from %s\n", r.opts.FromPyTorch)
	}
	fmt.Fprintf(w, "ANN return %.1f ± %.1f over %d episodes, %d MACs per decision\n",
		cmp.ANN.ReturnsMean, cmp.ANN.ReturnsStd, cmp.Episodes, cmp.ANN.MACs)
	fmt.Fprintf(w, "%-9s %5s %16s %7s %8s %8s %8s %9s %10s\n", "method", "T", "SNN return", "x ANN", "own%", "dec%", "source%", "spikes", "SynOps")
	for _, m := range methods {
		for _, t := range m.Results {
			source := "-"
			if t.AgreementSource != nil {
				source = fmt.Sprintf("%.2f", 100**t.AgreementSource)
			}
			x := 0.0
			if cmp.ANN.ReturnsMean > 0 {
				x = t.SNNReturnsMean / cmp.ANN.ReturnsMean
			}
			fmt.Fprintf(w, "%-9s %5d %7.1f ± %6.1f %7.3f %8.2f %8.2f %8s %9.0f %10.0f\n", m.Method, t.Timesteps,
				t.SNNReturnsMean, t.SNNReturnsStd, x, 100*t.AgreementOwn, 100*t.AgreementDecisive, source,
				t.SpikesPerDecision, t.SynOpsPerDecision)
		}
	}
	total := 0.0
	for _, st := range r.res.Stages {
		total += st.WallS
	}
	_, err := fmt.Fprintf(w, "report: %s (all outputs in %s, %.0f s)\n", r.res.Report, r.opts.Out, total)
	return err
}
