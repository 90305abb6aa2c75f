package workflow

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spikebridge/spikebridge/convert"
	"github.com/spikebridge/spikebridge/env"
	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/model"
	"github.com/spikebridge/spikebridge/report"
)

// Files that Compare writes into its directory.
const (
	CompareJSONFile     = "compare.json"
	CompareCSVFile      = "compare.csv"
	CompareAgreementPNG = "agreement_vs_T.png"
	CompareReturnPNG    = "return_vs_T.png"
	CompareQScatterPNG  = "q_scatter.png"
	CompareSpikeRaster  = "spike_raster.png"
	// compareRasterMaxSpikes bounds the spikes drawn in the raster.
	compareRasterMaxSpikes = 1 << 20
)

// DefaultDecisiveMargin is the ANN Q margin above which a state counts as
// decisive.
const DefaultDecisiveMargin = 0.1

// CompareOptions says which ANN and SNN files to compare, how, and where
// the results go.
type CompareOptions struct {
	ANN    string // the original ANN (.safetensors or PyTorch .pt)
	SNN    string // the spiking model file
	Source string // the network the SNN was converted from, if not ANN (a distilled student)
	Env    string
	// Episodes from Seed's initial states, or InitStates (FILE.npz[:array],
	// one episode per row; then Episodes must be 0).
	Episodes       int
	Seed           uint64
	InitStates     string
	States         string // fixed state set of agreement_fixed; "": the ANN's own states
	Timesteps      []int
	DecisiveMargin float64
	Out            string // the directory of compare.json, compare.csv and the plots
	Progress       StepProgress
	// CheckInitStates, when set, may refuse the number of episodes read
	// from InitStates before they are played (the CLI's memory guard).
	CheckInitStates func(episodes int) error
}

// CompareDoc is compare.json: DESIGN.md's fields at the top level.
type CompareDoc struct {
	ANNFile string `json:"ann_file"`
	SNNFile string `json:"snn_file"`
	Env     string `json:"env"`
	Out     string `json:"-"` // the directory written (in the text only)
	*convert.Comparison
}

// JSON is compare.json's bytes (indented, with a final newline).
func (d CompareDoc) JSON() ([]byte, error) {
	data, err := json.MarshalIndent(d, "", "  ")
	return append(data, '\n'), err
}

// WriteText writes the comparison for people: the ANN, one row per T and
// where the files are.
func (d CompareDoc) WriteText(w io.Writer) error {
	c := d.Comparison
	fmt.Fprintf(w, "ANN %s: return %.2f ± %.2f over %d episodes, %d MACs per decision; %d fixed states, mean margin %.4f\n",
		d.ANNFile, c.ANN.ReturnsMean, c.ANN.ReturnsStd, c.Episodes, c.ANN.MACs, c.FixedStates, c.ANN.MarginMean)
	fmt.Fprintf(w, "%6s %8s %8s %8s %8s %16s %7s %6s %9s %9s %10s %10s\n", "T", "own%", "dec%", "fixed%", "source%", "SNN return",
		"x ANN", "len≠%", "Q err", "err/marg", "spikes", "SynOps")
	for _, r := range c.Results {
		source := "-"
		if r.AgreementSource != nil {
			source = fmt.Sprintf("%.2f", 100**r.AgreementSource)
		}
		ratio := "-"
		if r.ReturnRatio != nil {
			ratio = fmt.Sprintf("%.3f", *r.ReturnRatio)
		}
		fmt.Fprintf(w, "%6d %8.2f %8.2f %8.2f %8s %7.1f ± %6.1f %7s %6.1f %9.4f %9.3f %10.1f %10.1f\n", r.Timesteps, 100*r.AgreementOwn,
			100*r.AgreementDecisive, 100*r.AgreementFixed, source, r.SNNReturnsMean, r.SNNReturnsStd, ratio, 100*r.LengthDiffers,
			r.QAbsError, r.QErrorMarginRatio, r.SpikesPerDecision, r.SynOpsPerDecision)
	}
	_, err := fmt.Fprintf(w, "wrote %s, %s and plots into %s\n", CompareJSONFile, CompareCSVFile, d.Out)
	return err
}

// Compare plays the same episodes with the ANN and, for every T, the SNN,
// and writes compare.json, compare.csv and the plots into opts.Out.
func Compare(opts CompareOptions) (CompareDoc, error) {
	if err := convert.CheckTimesteps(opts.Timesteps); err != nil {
		return CompareDoc{}, invalidf("{Timesteps}: %v", err)
	}
	if opts.InitStates != "" && opts.Episodes != 0 {
		return CompareDoc{}, invalidf("{Episodes} and {InitStates} exclude each other: {InitStates} plays one episode per row")
	}
	if opts.InitStates == "" && (opts.Episodes < 1 || opts.Episodes > MaxEpisodes) {
		return CompareDoc{}, invalidf("{Episodes} %d: want 1 to %d", opts.Episodes, MaxEpisodes)
	}
	e, err := env.Make(opts.Env)
	if err != nil {
		return CompareDoc{}, invalidf("{Env}: %v", err)
	}
	ann, err := formats.LoadANN(opts.ANN)
	if err != nil {
		return CompareDoc{}, err
	}
	s, _, err := formats.LoadSNN(opts.SNN)
	if err != nil {
		return CompareDoc{}, err
	}
	co, err := compareInputs(opts, e, ann)
	if err != nil {
		return CompareDoc{}, err
	}
	prog := stepsOrNone(opts.Progress)
	prog.Begin("compare", len(opts.Timesteps))
	done := 0
	co.Progress = func(T int) {
		prog.At(done, fmt.Sprintf("T=%d, %d episodes", T, max(co.Episodes, len(co.InitStates))))
		done++
	}
	cmp, err := convert.Compare(e, ann, s, co)
	prog.End()
	if err != nil {
		return CompareDoc{}, err
	}
	doc := CompareDoc{ANNFile: opts.ANN, SNNFile: opts.SNN, Env: opts.Env, Out: opts.Out, Comparison: cmp}
	return doc, writeComparison(opts, doc, ann)
}

// compareInputs reads the initial states, the fixed states and the source
// network that opts names.
func compareInputs(opts CompareOptions, e env.Env, ann *model.Network) (convert.CompareOptions, error) {
	co := convert.CompareOptions{Timesteps: opts.Timesteps, Episodes: opts.Episodes, Seed: opts.Seed,
		DecisiveMargin: opts.DecisiveMargin}
	var err error
	if opts.InitStates != "" {
		if co.InitStates, err = LoadInitStates(opts.InitStates, e.ObservationSize()); err != nil {
			return co, err
		}
		if opts.CheckInitStates != nil {
			if err := opts.CheckInitStates(len(co.InitStates)); err != nil {
				return co, err
			}
		}
		co.Episodes = 0
	}
	if opts.States != "" {
		if co.Fixed, _, err = LoadStates(opts.States, ann.InputSize()); err != nil {
			return co, err
		}
	}
	if opts.Source != "" {
		if co.Source, err = sourceForward(opts.Source, ann); err != nil {
			return co, err
		}
	}
	return co, nil
}

// writeComparison writes compare.json, compare.csv and the plots.
func writeComparison(opts CompareOptions, doc CompareDoc, ann *model.Network) error {
	if err := os.MkdirAll(opts.Out, 0o755); err != nil {
		return err
	}
	data, err := doc.JSON()
	if err != nil {
		return err
	}
	if err := writeBytesAtomic(filepath.Join(opts.Out, CompareJSONFile), data); err != nil {
		return err
	}
	if err := formats.WriteFileAtomic(filepath.Join(opts.Out, CompareCSVFile), func(w io.Writer) error {
		return WriteCompareCSV(w, doc.Comparison)
	}); err != nil {
		return err
	}
	return writeComparePlots(opts, doc.Comparison, ann)
}

// CompareCSVHeader is compare.csv's first row.
var CompareCSVHeader = []string{"timesteps", "agreement_own", "agreement_fixed", "agreement_decisive", "agreement_fixed_decisive",
	"agreement_source", "own_states", "decisive_states", "snn_returns_mean", "snn_returns_std", "ann_returns_mean", "ann_returns_std",
	"q_abs_error", "q_error_margin_ratio", "spikes_per_decision", "synops_per_decision", "input_macs_per_decision", "ann_macs_per_decision",
	"return_ratio", "length_differs"}

// WriteCompareCSV writes c as compare.csv: the header, then one row per T.
func WriteCompareCSV(w io.Writer, c *convert.Comparison) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CompareCSVHeader); err != nil {
		return err
	}
	for _, r := range c.Results {
		if err := cw.Write(compareCSVRow(c, r)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func compareCSVRow(c *convert.Comparison, r convert.TResult) []string {
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	optional := func(v *float64) string {
		if v == nil {
			return ""
		}
		return g(*v)
	}
	return []string{strconv.Itoa(r.Timesteps), g(r.AgreementOwn), g(r.AgreementFixed), g(r.AgreementDecisive),
		g(r.AgreementFixedDecisive), optional(r.AgreementSource), strconv.Itoa(r.OwnStates), strconv.Itoa(r.DecisiveStates),
		g(r.SNNReturnsMean), g(r.SNNReturnsStd), g(c.ANN.ReturnsMean), g(c.ANN.ReturnsStd),
		g(r.QAbsError), g(r.QErrorMarginRatio), g(r.SpikesPerDecision), g(r.SynOpsPerDecision),
		g(r.InputMACsPerDecision), strconv.Itoa(r.ANNMACsPerDecision), optional(r.ReturnRatio), g(r.LengthDiffers)}
}

func writeComparePlots(opts CompareOptions, c *convert.Comparison, ann *model.Network) error {
	ts := make([]int, len(c.Results))
	own, fixed, decisive := make([]float64, len(ts)), make([]float64, len(ts)), make([]float64, len(ts))
	mean, std := make([]float64, len(ts)), make([]float64, len(ts))
	var source []float64
	for i, r := range c.Results {
		ts[i] = r.Timesteps
		own[i], fixed[i], decisive[i] = r.AgreementOwn, r.AgreementFixed, r.AgreementDecisive
		mean[i], std[i] = r.SNNReturnsMean, r.SNNReturnsStd
		if r.AgreementSource != nil {
			source = append(source, *r.AgreementSource)
		}
	}
	series := []report.Series{{Name: "own trajectory (SNN acts)", Values: own}, {Name: "fixed recorded states", Values: fixed},
		{Name: fmt.Sprintf("own trajectory, decisive (margin > %g)", c.DecisiveMargin), Values: decisive}}
	if len(source) == len(ts) {
		series = append(series, report.Series{Name: "vs source network, fixed states", Values: source})
	}
	title := fmt.Sprintf("%s vs SNN %s on %s", filepath.Base(opts.ANN), filepath.Base(opts.SNN), opts.Env)
	if err := formats.WriteFileAtomic(filepath.Join(opts.Out, CompareAgreementPNG), func(w io.Writer) error {
		return report.WriteAgreementPlot(w, "Action agreement: "+title, ts, series, report.DSQNReferences)
	}); err != nil {
		return err
	}
	if err := formats.WriteFileAtomic(filepath.Join(opts.Out, CompareReturnPNG), func(w io.Writer) error {
		return report.WriteReturnPlot(w, fmt.Sprintf("Return over %d episodes: %s", c.Episodes, title), ts, mean, std, c.ANN.ReturnsMean, c.ANN.ReturnsStd)
	}); err != nil {
		return err
	}
	return writeScatterAndRaster(opts.Out, opts, c, ann)
}

// writeScatterAndRaster draws the Q scatter and the spike raster of the
// comparison of opts into dir.
func writeScatterAndRaster(dir string, opts CompareOptions, c *convert.Comparison, ann *model.Network) error {
	xLabel := "ANN output (Q, ANN units)"
	what := "ANN"
	if c.ScatterSource {
		what, xLabel = "its source network ("+filepath.Base(opts.Source)+")", "source network output (its units)"
	}
	if err := formats.WriteFileAtomic(filepath.Join(dir, CompareQScatterPNG), func(w io.Writer) error {
		return report.WriteQScatter(w, fmt.Sprintf("SNN %s vs %s, %d states, T=%d", filepath.Base(opts.SNN), what, c.FixedStates, c.ScatterT),
			xLabel, c.ScatterANN, c.ScatterSNN, ann.OutputSize(), []string{"push left (0)", "push right (1)"})
	}); err != nil {
		return err
	}
	return writeRaster(filepath.Join(dir, CompareSpikeRaster), opts.SNN, c)
}

// writeRaster records one decision (the first fixed state) at the scatter T.
func writeRaster(path, snnFile string, c *convert.Comparison) error {
	s, _, err := formats.LoadSNN(snnFile)
	if err != nil {
		return err
	}
	events, _, err := convert.Raster(s, c.RasterState, c.ScatterT, compareRasterMaxSpikes)
	if err != nil {
		return err
	}
	var spikes []report.Spike
	for _, e := range events {
		spikes = append(spikes, report.Spike{Step: int(e.Step), Layer: int(e.Layer), Neuron: int(e.Neuron)})
	}
	var sizes []int
	var names []string
	for _, l := range s.Layers[:len(s.Layers)-1] {
		sizes = append(sizes, l.Out)
		names = append(names, l.Name)
	}
	if len(sizes) == 0 {
		return nil
	}
	return formats.WriteFileAtomic(path, func(w io.Writer) error {
		return report.WriteSpikeRaster(w, fmt.Sprintf("Spikes of one decision (first fixed state), T=%d", c.ScatterT), spikes, sizes, names, c.ScatterT)
	})
}

// sourceForward opens the network an SNN was converted from. A student
// trained with clip-floor activations (its provenance says clip_floor > 0)
// is run as its clipped network (activations clip(a, 0, 1), no rounding):
// the network its unit-scale SNN converges to as T grows.
func sourceForward(path string, ann *model.Network) (func(dst, x []float32), error) {
	net, levels, err := formats.LoadSource(path)
	if err != nil {
		return nil, err
	}
	if net.InputSize() != ann.InputSize() || net.OutputSize() != ann.OutputSize() {
		return nil, fmt.Errorf("%s: the source network is %s, the ANN %s", path, net, ann)
	}
	if levels > 0 {
		return model.ClipFloorPredictor(net, 0), nil
	}
	ws := net.NewWorkspace(1)
	return func(dst, x []float32) { net.Forward(dst, x, ws) }, nil
}

// LoadStates reads the states of an .npz (FILE.npz[:array], default array
// states) for a network of inputs inputs, with their action labels if the
// file has them.
func LoadStates(spec string, inputs int) (convert.States, []int, error) {
	data, width, labels, err := formats.LoadStates(spec, inputs)
	if err != nil {
		return convert.States{}, nil, err
	}
	st := convert.States{Data: data, Width: width}
	if err := st.Check(inputs); err != nil {
		path, _ := formats.SplitArraySpec(spec, "states")
		return convert.States{}, nil, fmt.Errorf("%s: %w", path, err)
	}
	return st, labels, nil
}

// LoadInitStates reads initial states (FILE.npz[:array], default array
// init_states), one row per episode, each of width finite values.
func LoadInitStates(spec string, width int) ([][]float64, error) {
	a, err := formats.LoadArray(spec, "init_states")
	if err != nil {
		return nil, err
	}
	path, _ := formats.SplitArraySpec(spec, "init_states")
	rows, cols, err := a.Matrix()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if cols != width || rows == 0 {
		return nil, fmt.Errorf("%s: array %q has shape %v, want (episodes, %d) initial states", path, a.Name, a.Shape, width)
	}
	if rows > MaxEpisodes {
		return nil, fmt.Errorf("%s: array %q holds %d initial states (episodes), more than the %d allowed", path, a.Name, rows, MaxEpisodes)
	}
	states := make([][]float64, rows)
	for i := range states {
		states[i] = a.Data[i*cols : (i+1)*cols]
		for j, v := range states[i] {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("%s: array %q: row %d, column %d is %v, want a finite number", path, a.Name, i, j, v)
			}
		}
	}
	return states, nil
}
