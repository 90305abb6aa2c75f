package report

import (
	"fmt"
	"io"
	"math"
	"strings"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// A conversion keeps the agent's behaviour at a T when its SNN's mean return
// is within ReturnTolerance of the ANN's (above is a change too) and it
// picks the ANN's action on at least KeptAgreement of the states of its own
// episodes: a return can match by chance while the agent acts differently,
// and a high agreement can still end episodes elsewhere.
const (
	ReturnTolerance = 0.03
	KeptAgreement   = 0.95
)

// PipelineSummary is what report.md says about one pipeline run: where the
// ANN came from, how well it plays, and per conversion method and T how much
// of that the SNN kept and at what cost.
type PipelineSummary struct {
	Env      string // e.g. "cartpole-v1"
	Network  string // e.g. "4-64-64-2"
	Command  string // the command line that made the run
	Seed     uint64
	Trained  *TrainedSummary // nil for an imported ANN
	Imported string          // the imported file, when Trained is nil
	// The comparison's ANN side: the same Episodes initial states for ANN
	// and every SNN.
	Episodes       int
	ANNReturnMean  float64
	ANNReturnStd   float64
	ANNMACs        int
	DecisiveMargin float64
	// Calibration data: States states recorded from StatesEpisodes episodes
	// with StatesEpsilon random actions.
	States         int
	StatesEpisodes int
	StatesEpsilon  float64
	Methods        []MethodSummary
	Best           string // the method the headline is about
	Stages         []StageTime
	Files          []FileNote
}

// TrainedSummary describes a DQN trained by the pipeline.
type TrainedSummary struct {
	Steps        int
	EvalEpisodes int
	EvalMean     float64
	EvalMin      float64
	EvalMax      float64
	SolvedStep   *int64
	WallS        float64
}

// MethodSummary is one conversion method's rows, one per T.
type MethodSummary struct {
	Name        string
	File        string // the SNN file
	Description string
	Rows        []MethodRow
}

// MethodRow holds the comparison figures of one method at one T.
// Agreements are fractions 0–1; AgreeSource is nil when the SNN's source is
// the ANN itself.
type MethodRow struct {
	T             int
	ReturnMean    float64
	ReturnStd     float64
	AgreeOwn      float64
	AgreeDecisive float64
	AgreeFixed    float64
	AgreeSource   *float64
	Spikes        float64
	SynOps        float64
}

// StageTime is the wall time of one pipeline stage.
type StageTime struct {
	Name    string
	Command string // the equivalent spikebridge command
	WallS   float64
}

// FileNote names one output file and says what it holds.
type FileNote struct{ Name, What string }

// Figure file names the report links to (relative to report.md).
const (
	FigureLearningCurve = "learning_curve.png"
	FigureReturn        = "return_vs_T.png"
	FigureAgreement     = "agreement_vs_T.png"
	FigureQScatter      = "q_scatter.png"
	FigureRaster        = "spike_raster.png"
)

// keeps reports whether row r keeps the behaviour (ReturnTolerance and
// KeptAgreement).
func keeps(r MethodRow, annMean float64) bool {
	return math.Abs(ratio(r.ReturnMean, annMean)-1) <= ReturnTolerance && r.AgreeOwn >= KeptAgreement
}

// firstKept returns the smallest T from which on every row keeps the
// behaviour, or 0 if the last one does not.
func firstKept(rows []MethodRow, annMean float64) int {
	t := 0
	for _, r := range rows {
		switch {
		case !keeps(r, annMean):
			t = 0
		case t == 0:
			t = r.T
		}
	}
	return t
}

func ratio(v, ann float64) float64 {
	if ann == 0 {
		return math.NaN()
	}
	return v / ann
}

// Headline is the report's first sentence about one method: from which T
// its SNN keeps the ANN's behaviour (return and agreement), at what cost; or
// how close it came.
func Headline(m MethodSummary, annMean float64, annMACs int) string {
	if len(m.Rows) == 0 {
		return fmt.Sprintf("%s: no figures.", m.Name)
	}
	if t := firstKept(m.Rows, annMean); t > 0 {
		var r MethodRow
		for _, x := range m.Rows {
			if x.T == t {
				r = x
			}
		}
		return fmt.Sprintf("**%s** keeps the agent: from T = %d on its SNN returns %.1f ± %.1f (%.2fx the ANN) and picks the ANN's "+
			"action on %.1f %% of the states it visits, with %.0f spikes and %.0f synaptic operations per decision against the ANN's %d multiply-accumulates.",
			m.Name, t, r.ReturnMean, r.ReturnStd, ratio(r.ReturnMean, annMean), 100*r.AgreeOwn, r.Spikes, r.SynOps, annMACs)
	}
	// The closest row: the first that keeps the behaviour (some larger T
	// does not), else the smallest return gap plus agreement gap.
	gap := func(r MethodRow) float64 {
		if keeps(r, annMean) {
			return -1
		}
		return math.Abs(ratio(r.ReturnMean, annMean)-1) + (1 - r.AgreeOwn)
	}
	best := m.Rows[0]
	for _, r := range m.Rows[1:] {
		if gap(r) < gap(best) {
			best = r
		}
	}
	return fmt.Sprintf("**%s** does not keep the agent at any measured T (return within %.0f %% of the ANN's and %.0f %% agreement): "+
		"closest at T = %d, where its SNN returns %.1f ± %.1f (%.2fx the ANN) and picks the ANN's action on %.1f %% of the states it visits.",
		m.Name, 100*ReturnTolerance, 100*KeptAgreement, best.T, best.ReturnMean, best.ReturnStd, ratio(best.ReturnMean, annMean), 100*best.AgreeOwn)
}

// WritePipelineReport writes report.md: the headline, the ANN, the table of
// every method and T, and the figures (linked by their file names).
func WritePipelineReport(w io.Writer, s PipelineSummary) error {
	if len(s.Methods) == 0 {
		return fmt.Errorf("report: pipeline report: no conversion methods")
	}
	var b strings.Builder
	writePipelineHeadline(&b, s)
	writePipelineANN(&b, s)
	writePipelineTable(&b, s)
	writePipelineFiles(&b, s)
	_, err := io.WriteString(w, b.String())
	return err
}

// writePipelineHeadline writes the title, the command, the ANN's return and
// every method's headline (the best first).
func writePipelineHeadline(b *strings.Builder, s PipelineSummary) {
	fmt.Fprintf(b, "# spikebridge pipeline: %s, %s Q-network → spiking network\n\n", s.Env, s.Network)
	fmt.Fprintf(b, "Made by `%s`.\n\n", s.Command)
	origin := fmt.Sprintf("imported from `%s`", s.Imported)
	if s.Trained != nil {
		origin = fmt.Sprintf("trained here with DQN for %d environment steps (seed %d)", s.Trained.Steps, s.Seed)
	}
	fmt.Fprintf(b, "The ANN (%s, %s) returns **%.1f ± %.1f** over %d episodes of %s.\n",
		s.Network, origin, s.ANNReturnMean, s.ANNReturnStd, s.Episodes, s.Env)
	for _, m := range s.Methods {
		if m.Name == s.Best {
			fmt.Fprintf(b, "%s\n", Headline(m, s.ANNReturnMean, s.ANNMACs))
		}
	}
	for _, m := range s.Methods {
		if m.Name != s.Best {
			fmt.Fprintf(b, "For comparison, %s\n", Headline(m, s.ANNReturnMean, s.ANNMACs))
		}
	}
	b.WriteString("\n![Return against T](" + FigureReturn + ")\n\n")

}

// writePipelineANN writes the section on the ANN and the conversion data.
func writePipelineANN(b *strings.Builder, s PipelineSummary) {
	b.WriteString("## The ANN\n\n")
	if s.Trained != nil {
		t := s.Trained
		solved := "never reached the moving-mean threshold"
		if t.SolvedStep != nil {
			solved = fmt.Sprintf("reached the moving-mean threshold at step %d", *t.SolvedStep)
		}
		fmt.Fprintf(b, "Trained for %d steps in %.1f s; training %s. The kept network's greedy evaluation over %d episodes: "+
			"mean %.1f (min %.0f, max %.0f).\n\n", t.Steps, t.WallS, solved, t.EvalEpisodes, t.EvalMean, t.EvalMin, t.EvalMax)
		b.WriteString("![Learning curve](" + FigureLearningCurve + ")\n\n")
	} else {
		fmt.Fprintf(b, "Imported from `%s` (no training in this run).\n\n", s.Imported)
	}
	fmt.Fprintf(b, "Conversion data: %d states recorded from %d episodes of the ANN with %.0f %% random actions.\n\n",
		s.States, s.StatesEpisodes, 100*s.StatesEpsilon)

}

// writePipelineTable writes the table of every method and T, the methods,
// and the best SNN's figures.
func writePipelineTable(b *strings.Builder, s PipelineSummary) {
	b.WriteString("## How much the SNN kept, per T\n\n")
	fmt.Fprintf(b, "The same %d initial states for the ANN and every SNN. *Return* is mean ± std; *× ANN* divides it by "+
		"the ANN's %.1f. *Agreement* is the share of states where the SNN picks the ANN's action: on the SNN's own "+
		"trajectory (*own*), on its decisive states only (ANN Q margin > %g, *decisive*), and on the ANN's own states "+
		"against the network the SNN was converted from (*source*; the student for distill). *Spikes* and *SynOps* are "+
		"per decision, against the ANN's %d multiply-accumulates. For scale, the DSQN paper reports %.1f %% own-trajectory "+
		"agreement for a converted DQN and %.1f %% for a converted classifier at T = %d.\n\n", s.Episodes, s.ANNReturnMean, s.DecisiveMargin, s.ANNMACs,
		100*DSQNReferences[0].Agreement, 100*DSQNReferences[1].Agreement, DSQNReferences[0].Timesteps)
	b.WriteString("| method | T | return | × ANN | agreement own | decisive | source | spikes | SynOps |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, m := range s.Methods {
		for _, r := range m.Rows {
			source := "–"
			if r.AgreeSource != nil {
				source = fmt.Sprintf("%.2f %%", 100**r.AgreeSource)
			}
			fmt.Fprintf(b, "| %s | %d | %.1f ± %.1f | %.3f | %.2f %% | %.2f %% | %s | %.0f | %.0f |\n",
				m.Name, r.T, r.ReturnMean, r.ReturnStd, ratio(r.ReturnMean, s.ANNReturnMean), 100*r.AgreeOwn,
				100*r.AgreeDecisive, source, r.Spikes, r.SynOps)
		}
	}
	b.WriteString("\nMethods:\n\n")
	for _, m := range s.Methods {
		fmt.Fprintf(b, "- **%s** (`%s`): %s\n", m.Name, m.File, m.Description)
	}
	b.WriteString("\n![Agreement against T](" + FigureAgreement + ")\n\n")
	fmt.Fprintf(b, "## Inside the %s SNN\n\n", s.Best)
	b.WriteString("Its outputs against those of the network it was converted from, on the ANN's own states, and the spikes of one decision:\n\n")
	b.WriteString("![SNN outputs against its source](" + FigureQScatter + ")\n\n")
	b.WriteString("![Spike raster of one decision](" + FigureRaster + ")\n\n")

}

// writePipelineFiles writes the files and the stages with their commands.
func writePipelineFiles(b *strings.Builder, s PipelineSummary) {
	b.WriteString("## Files\n\n")
	for _, f := range s.Files {
		fmt.Fprintf(b, "- `%s`: %s\n", f.Name, f.What)
	}
	b.WriteString("\n## Stages\n\nEach stage is also a verb; these commands redo it on the files above.\n\n")
	b.WriteString("| stage | wall (s) | equivalent command |\n|---|---:|---|\n")
	total := 0.0
	for _, st := range s.Stages {
		fmt.Fprintf(b, "| %s | %.1f | `%s` |\n", st.Name, st.WallS, st.Command)
		total += st.WallS
	}
	fmt.Fprintf(b, "| total | %.1f | |\n", total)
}

// ReturnSeries is one method's mean ± std return over the T sweep.
type ReturnSeries struct {
	Name      string
	Mean, Std []float64
}

// WriteReturnsPlot draws every method's SNN return (mean ± std) against T,
// with the ANN's mean return as a dashed line.
func WriteReturnsPlot(w io.Writer, title string, ts []int, series []ReturnSeries, annMean, annStd float64) error {
	var check []Series
	for _, s := range series {
		check = append(check, Series{s.Name + " mean", s.Mean}, Series{s.Name + " std", s.Std})
	}
	if err := checkSweep("returns plot", ts, check); err != nil {
		return err
	}
	p := sweepPlot(title, "return per episode (mean ± std)", ts)
	for i, s := range series {
		pts := make(plotter.XYs, len(ts))
		errs := make(plotter.YErrors, len(ts))
		// Methods side by side: shift each a little along the log axis so
		// their error bars do not hide each other.
		shift := math.Pow(1.06, float64(i)-float64(len(series)-1)/2)
		for k, t := range ts {
			pts[k] = plotter.XY{X: float64(t) * shift, Y: s.Mean[k]}
			errs[k].Low, errs[k].High = s.Std[k], s.Std[k]
		}
		line, points, c, err := seriesLine(pts, i)
		if err != nil {
			return fmt.Errorf("report: returns plot: %w", err)
		}
		eb, err := errorBars(pts, errs, c)
		if err != nil {
			return fmt.Errorf("report: returns plot: %w", err)
		}
		p.Add(line, points, eb)
		p.Legend.Add("SNN, "+s.Name, line, points)
	}
	ann, err := plotter.NewLine(plotter.XYs{{X: p.X.Min, Y: annMean}, {X: p.X.Max, Y: annMean}})
	if err != nil {
		return fmt.Errorf("report: returns plot: %w", err)
	}
	ann.Color = comparePalette[len(series)%len(comparePalette)]
	ann.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	ann.Width = vg.Points(1.5)
	p.Add(ann)
	p.Legend.Add(fmt.Sprintf("ANN (%.1f ± %.1f)", annMean, annStd), ann)
	p.Y.Min = 0
	p.Y.Max = math.Max(p.Y.Max, annMean*1.45)
	p.Legend.Top = true
	return writePNG(w, p, "returns plot")
}
