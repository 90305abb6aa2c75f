package workflow

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spikebridge/spikebridge/convert"
	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/model"
	"github.com/spikebridge/spikebridge/report"
)

// What the pipeline writes about itself: compare.json and compare.csv of
// every method, the plots, report.md, and each stage's equivalent command.

var methodDescriptions = map[string]string{
	MethodBaseline: "DESIGN.md's baseline: IF neurons, layer-wise 99.9th-percentile normalisation, reset by subtraction, " +
		"v(0) = θ/2, membrane readout.",
	MethodDistill: "a student MLP classifier is trained (Gorgonia, cross-entropy) on the ANN's actions over the " +
		"recorded states with clip-floor activations, improved by DAgger rounds on the states its SNN visits, and " +
		"converted with unit scales and membrane readout.",
}

// writeReport writes compare.json, compare.csv, the plots and report.md.
func (r *pipelineRun) writeReport(methods []*PipelineMethod, best *PipelineMethod) error {
	data, err := json.MarshalIndent(r.res.Compare, "", "  ")
	if err != nil {
		return err
	}
	if err := writeBytesAtomic(r.path(CompareJSONFile), append(data, '\n')); err != nil {
		return err
	}
	if err := formats.WriteFileAtomic(r.path(CompareCSVFile), func(w io.Writer) error { return writePipelineCSV(w, methods) }); err != nil {
		return err
	}
	if err := r.writePlots(methods, best.comparison); err != nil {
		return err
	}
	// The best method's scatter and raster, drawn into Out as compare does.
	ann, err := formats.LoadANN(r.res.ModelFile)
	if err != nil {
		return err
	}
	if err := writeScatterAndRaster(r.opts.Out, best.compare, best.comparison, ann); err != nil {
		return err
	}
	sum := r.summary(methods, best, ann)
	return formats.WriteFileAtomic(r.path(PipelineReportFile), func(w io.Writer) error { return report.WritePipelineReport(w, sum) })
}

// writePlots draws every method's agreement and return per T.
func (r *pipelineRun) writePlots(methods []*PipelineMethod, cmp *convert.Comparison) error {
	opts := r.opts
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
	if err := formats.WriteFileAtomic(r.path(report.FigureAgreement), func(w io.Writer) error {
		return report.WriteAgreementPlot(w, "Action agreement per T: "+what, ts, agree, report.DSQNReferences)
	}); err != nil {
		return err
	}
	return formats.WriteFileAtomic(r.path(report.FigureReturn), func(w io.Writer) error {
		return report.WriteReturnsPlot(w, fmt.Sprintf("Return over %d episodes per T: %s", cmp.Episodes, what), ts, returns,
			cmp.ANN.ReturnsMean, cmp.ANN.ReturnsStd)
	})
}

// summary is what report.md says about the run.
func (r *pipelineRun) summary(methods []*PipelineMethod, best *PipelineMethod, ann *model.Network) report.PipelineSummary {
	opts, cmp := r.opts, best.comparison
	sum := report.PipelineSummary{Env: opts.Env, Network: ann.String(), Command: opts.Command, Seed: opts.Seed,
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
	return sum
}

func (r *pipelineRun) fileNotes(methods []*PipelineMethod) []report.FileNote {
	notes := []report.FileNote{{Name: DQNModelFile, What: "the ANN (safetensors; the network every SNN was converted from)"}}
	if r.res.Train != nil {
		notes = append(notes,
			report.FileNote{Name: DQNMetricsFile, What: "the training log, one row per episode and evaluation"},
			report.FileNote{Name: DQNFinalFile, What: "the last training network (model.safetensors is the best kept one)"},
			report.FileNote{Name: DQNConfigFile + ", " + DQNCheckpointFile, What: "the training settings and its checkpoint (`train dqn --resume`)"})
	}
	notes = append(notes, report.FileNote{Name: PipelineStatesFile, What: "the recorded calibration states, actions, Q-values and episodes"})
	for _, m := range methods {
		notes = append(notes, report.FileNote{Name: filepath.Base(m.SNNFile), What: "the " + m.Method + " SNN"})
		if m.SourceFile != "" {
			notes = append(notes, report.FileNote{Name: filepath.Base(m.SourceFile), What: "the student ANN the " + m.Method + " SNN was converted from"})
		}
		notes = append(notes, report.FileNote{Name: filepath.Base(m.CompareDir) + "/", What: "`spikebridge compare`'s full output for " + m.Method})
	}
	return append(notes,
		report.FileNote{Name: CompareJSONFile, What: "every figure of the table (DESIGN.md's compare fields for " + r.res.BestMethod + " at the top, all methods under `methods`)"},
		report.FileNote{Name: CompareCSVFile, What: "the same, one row per method and T"})
}

// PipelineCSVHeader is the pipeline's compare.csv header: compare's with
// the method in front.
var PipelineCSVHeader = append([]string{"method"}, CompareCSVHeader...)

func writePipelineCSV(w io.Writer, methods []*PipelineMethod) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(PipelineCSVHeader); err != nil {
		return err
	}
	for _, m := range methods {
		for _, t := range m.comparison.Results {
			if err := cw.Write(append([]string{m.Method}, compareCSVRow(m.comparison, t)...)); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// The stages' equivalent commands: the flags the pipeline sets, in the
// order the report has always shown them.

func trainCommand(t TrainDQNOptions) string {
	args := []string{"--env", t.Config.Env, "--steps", strconv.Itoa(t.Config.Steps), "--seed", strconv.FormatUint(t.Config.Seed, 10), "--out", t.Out}
	if t.Resume {
		args = append(args, "--resume")
	}
	if t.Force {
		args = append(args, "--force")
	}
	return verbLine("train dqn", args)
}

func importCommand(o ImportPyTorchOptions) string {
	args := []string{o.Input, "-o", o.Output, "--json"}
	for _, f := range [][2]string{{"--arch", o.Arch}, {"--prefix", o.Prefix}, {"--layout", o.Layout}, {"--head", o.Head}, {"--activation", o.Activation}} {
		if f[1] != "" {
			args = append(args, f[0], f[1])
		}
	}
	return verbLine("import pytorch", args)
}

func recordCommand(o RecordOptions) string {
	return verbLine("record", []string{"--model", o.Model, "--env", o.Env, "--episodes", strconv.Itoa(o.Episodes),
		"--seed", strconv.FormatUint(o.Seed, 10), "--epsilon", strconv.FormatFloat(o.Epsilon, 'g', -1, 64), "-o", o.Out})
}

func convertCommand(c ConvertOptions) string {
	args := []string{"--model", c.Model, "--calib", c.Calib, "--method", c.Method, "-o", c.Out}
	if c.Method == MethodBaseline {
		args = append(args, "--timesteps", strconv.Itoa(c.Timesteps))
	} else {
		args = append(args, "--env", c.Env, "--seed", strconv.FormatUint(c.Classifier.Seed, 10), "--student-out", c.StudentOut)
	}
	return verbLine("convert", args)
}

func compareCommand(o CompareOptions) string {
	args := []string{"--ann", o.ANN, "--snn", o.SNN, "--env", o.Env, "--episodes", strconv.Itoa(o.Episodes),
		"--seed", strconv.FormatUint(o.Seed, 10), "--timesteps", intList(o.Timesteps), "--out", o.Out}
	if o.Source != "" {
		args = append(args, "--source", o.Source)
	}
	return verbLine("compare", args)
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

// WriteText writes the run for people: the ANN, the report's table of
// every method at every T, and where the report is.
func (r PipelineResult) WriteText(w io.Writer) error {
	cmp := r.Compare.Comparison
	if tr := r.Train; tr != nil {
		fmt.Fprintf(w, "DQN trained %d steps (seed %d) in %.1f s: greedy eval %.1f over %d episodes\n",
			tr.Steps, r.Seed, tr.TrainWallS, tr.EvalMean, tr.EvalEpisodes)
	} else {
		fmt.Fprintf(w, "ANN imported from %s\n", r.Imported)
	}
	fmt.Fprintf(w, "ANN return %.1f ± %.1f over %d episodes, %d MACs per decision\n",
		cmp.ANN.ReturnsMean, cmp.ANN.ReturnsStd, cmp.Episodes, cmp.ANN.MACs)
	fmt.Fprintf(w, "%-9s %5s %16s %7s %8s %8s %8s %9s %10s\n", "method", "T", "SNN return", "x ANN", "own%", "dec%", "source%", "spikes", "SynOps")
	for _, m := range r.Compare.Methods {
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
	for _, st := range r.Stages {
		total += st.WallS
	}
	_, err := fmt.Fprintf(w, "report: %s (all outputs in %s, %.0f s)\n", r.Report, r.Out, total)
	return err
}
