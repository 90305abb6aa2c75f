package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/spikebridge/spikebridge/convert"
	"github.com/spikebridge/spikebridge/env"
	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/model"
	"github.com/spikebridge/spikebridge/report"
)

// Files that `spikebridge compare` writes into --out.
const (
	compareJSONFile      = "compare.json"
	compareCSVFile       = "compare.csv"
	compareAgreementPNG  = "agreement_vs_T.png"
	compareReturnPNG     = "return_vs_T.png"
	compareQScatterPNG   = "q_scatter.png"
	compareSpikeRaster   = "spike_raster.png"
	compareRasterMaxSpks = 1 << 20
)

// defaultDecisiveMargin is compare's --decisive-margin default (also the
// pipeline's).
const defaultDecisiveMargin = 0.1

// CompareOptions holds the flags of `spikebridge compare`.
type CompareOptions struct {
	IO             *IOStreams
	ANN            string
	SNN            string
	Source         string
	Env            string
	Episodes       int
	Seed           uint64
	InitStates     string
	States         string
	Timesteps      []int
	DecisiveMargin float64
	Out            string
	JSON           bool
	episodesSet    bool
}

// NewCmdCompare parses flags into CompareOptions; runF replaces runCompare in tests.
func NewCmdCompare(ios *IOStreams, runF func(*CompareOptions) error) *cobra.Command {
	opts := &CompareOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "compare --ann M --snn S [--env cartpole-v1] [--episodes 100] [--timesteps 8,16,...] --out DIR",
		Short: "Compare an ANN agent and its spiking conversion over a T sweep (agreement, returns, Q error, cost)",
		Long: `Play the same episodes (same initial states) with the ANN and, for every T, with the
SNN, and measure DESIGN.md's comparison metrics: agreement with the ANN's action on the
SNN's own trajectory (overall and on decisive states, ANN margin > --decisive-margin),
on a fixed state set (--states, default the ANN's own states), returns (mean ± std),
Q error and its ratio to the ANN's mean margin, spikes and synaptic operations per
decision against the ANN's multiply-accumulates.

Writes compare.json (the --json document), compare.csv (one row per T) and PNG plots
(agreement_vs_T, return_vs_T, q_scatter, spike_raster) into --out.`,
		Example: "  spikebridge compare --ann policy.pt --snn snn.safetensors --episodes 100 --out cmp",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Out == "" {
				return usageErrorf("--out DIR is required")
			}
			opts.episodesSet = cmd.Flags().Changed("episodes")
			if runF != nil {
				return runF(opts)
			}
			return runCompare(opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.ANN, "ann", "model.safetensors", "the original ANN (.safetensors or PyTorch .pt)")
	f.StringVar(&opts.SNN, "snn", "snn.safetensors", "the spiking model file (spikebridge convert)")
	f.StringVar(&opts.Source, "source", "", "the network the SNN was converted from, if not --ann (a distilled student)")
	f.StringVar(&opts.Env, "env", "cartpole-v1", "environment: cartpole-v1 or cartpole-v0")
	f.IntVar(&opts.Episodes, "episodes", 100, "episodes from --seed (the same initial states for ANN and SNN)")
	f.Uint64Var(&opts.Seed, "seed", 0, "seed of the initial states")
	f.StringVar(&opts.InitStates, "init-states", "", "initial states, one episode per row: FILE.npz[:array] (default array init_states)")
	f.StringVar(&opts.States, "states", "", "fixed state set of agreement_fixed (.npz, array states); default: the ANN's own states")
	f.IntSliceVar(&opts.Timesteps, "timesteps", convert.DefaultTimesteps(), "T values to measure")
	f.Float64Var(&opts.DecisiveMargin, "decisive-margin", defaultDecisiveMargin, "a state is decisive when the ANN's Q margin exceeds this")
	f.StringVar(&opts.Out, "out", "", "output directory (required)")
	f.BoolVar(&opts.JSON, "json", false, "print compare.json on stdout too")
	return cmd
}

// compareDoc is compare.json: DESIGN.md's fields at the top level.
type compareDoc struct {
	ANNFile string `json:"ann_file"`
	SNNFile string `json:"snn_file"`
	Env     string `json:"env"`
	*convert.Comparison
}

func runCompare(opts *CompareOptions) error {
	cmp, data, err := compareToDir(opts)
	if err != nil {
		return err
	}
	if opts.JSON {
		_, err := opts.IO.Out.Write(data)
		return err
	}
	return writeCompareText(opts.IO.Out, opts, cmp)
}

// compareToDir runs the comparison and writes its files into opts.Out; it
// returns the comparison and compare.json's bytes.
func compareToDir(opts *CompareOptions) (*convert.Comparison, []byte, error) {
	if err := convert.CheckTimesteps(opts.Timesteps); err != nil {
		return nil, nil, usageErrorf("--timesteps: %v", err)
	}
	if opts.InitStates != "" && opts.episodesSet {
		return nil, nil, usageErrorf("--episodes and --init-states exclude each other: --init-states plays one episode per row")
	}
	if opts.InitStates == "" && (opts.Episodes < 1 || opts.Episodes > maxCLIEpisodes) {
		return nil, nil, usageErrorf("--episodes %d: want 1 to %d", opts.Episodes, maxCLIEpisodes)
	}
	e, err := env.Make(opts.Env)
	if err != nil {
		return nil, nil, usageErrorf("--env: %v", err)
	}
	ann, err := formats.LoadANN(opts.ANN)
	if err != nil {
		return nil, nil, err
	}
	s, _, err := formats.LoadSNN(opts.SNN)
	if err != nil {
		return nil, nil, err
	}
	co := convert.CompareOptions{Timesteps: opts.Timesteps, Episodes: opts.Episodes, Seed: opts.Seed,
		DecisiveMargin: opts.DecisiveMargin}
	if opts.InitStates != "" {
		if co.InitStates, err = loadInitStates(opts.InitStates, e.ObservationSize()); err != nil {
			return nil, nil, err
		}
		if err := checkEpisodesMemory("--init-states "+opts.InitStates, len(co.InitStates)); err != nil {
			return nil, nil, err
		}
		co.Episodes = 0
	}
	if opts.States != "" {
		if co.Fixed, _, err = loadStates(opts.States, ann.InputSize()); err != nil {
			return nil, nil, err
		}
	}
	if opts.Source != "" {
		if co.Source, err = sourceForward(opts.Source, ann); err != nil {
			return nil, nil, err
		}
	}
	// Progress goes to stderr even with --json: stdout holds the document.
	prog := newStepProgress(opts.IO.ErrOut, "compare", len(opts.Timesteps))
	done := 0
	co.Progress = func(T int) {
		prog.at(done, fmt.Sprintf("T=%d, %d episodes", T, max(co.Episodes, len(co.InitStates))))
		done++
	}
	cmp, err := convert.Compare(e, ann, s, co)
	prog.finish()
	if err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(opts.Out, 0o755); err != nil {
		return nil, nil, err
	}
	doc := compareDoc{ANNFile: opts.ANN, SNNFile: opts.SNN, Env: opts.Env, Comparison: cmp}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, nil, err
	}
	data = append(data, '\n')
	if err := writeFile(filepath.Join(opts.Out, compareJSONFile), func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
		return nil, nil, err
	}
	if err := writeFile(filepath.Join(opts.Out, compareCSVFile), func(w io.Writer) error { return writeCompareCSV(w, cmp) }); err != nil {
		return nil, nil, err
	}
	if err := writeComparePlots(opts, cmp, ann, s); err != nil {
		return nil, nil, err
	}
	return cmp, data, nil
}

func writeFile(path string, write func(io.Writer) error) error {
	return formats.WriteFileAtomic(path, write)
}

var compareCSVHeader = []string{"timesteps", "agreement_own", "agreement_fixed", "agreement_decisive", "agreement_fixed_decisive",
	"agreement_source", "own_states", "decisive_states", "snn_returns_mean", "snn_returns_std", "ann_returns_mean", "ann_returns_std",
	"q_abs_error", "q_error_margin_ratio", "spikes_per_decision", "synops_per_decision", "input_macs_per_decision", "ann_macs_per_decision",
	"return_ratio", "length_differs"}

func writeCompareCSV(w io.Writer, c *convert.Comparison) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(compareCSVHeader); err != nil {
		return err
	}
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	for _, r := range c.Results {
		source := ""
		if r.AgreementSource != nil {
			source = g(*r.AgreementSource)
		}
		ratio := ""
		if r.ReturnRatio != nil {
			ratio = g(*r.ReturnRatio)
		}
		row := []string{strconv.Itoa(r.Timesteps), g(r.AgreementOwn), g(r.AgreementFixed), g(r.AgreementDecisive),
			g(r.AgreementFixedDecisive), source, strconv.Itoa(r.OwnStates), strconv.Itoa(r.DecisiveStates),
			g(r.SNNReturnsMean), g(r.SNNReturnsStd), g(c.ANN.ReturnsMean), g(c.ANN.ReturnsStd),
			g(r.QAbsError), g(r.QErrorMarginRatio), g(r.SpikesPerDecision), g(r.SynOpsPerDecision),
			g(r.InputMACsPerDecision), strconv.Itoa(r.ANNMACsPerDecision), ratio, g(r.LengthDiffers)}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func writeComparePlots(opts *CompareOptions, c *convert.Comparison, ann *model.Network, s interface {
	String() string
}) error {
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
	plots := []struct {
		file string
		draw func(io.Writer) error
	}{
		{compareAgreementPNG, func(w io.Writer) error {
			return report.WriteAgreementPlot(w, "Action agreement: "+title, ts, series, report.DSQNReferences)
		}},
		{compareReturnPNG, func(w io.Writer) error {
			return report.WriteReturnPlot(w, fmt.Sprintf("Return over %d episodes: %s", c.Episodes, title), ts, mean, std, c.ANN.ReturnsMean, c.ANN.ReturnsStd)
		}},
	}
	for _, p := range plots {
		if err := writeFile(filepath.Join(opts.Out, p.file), p.draw); err != nil {
			return err
		}
	}
	return writeScatterAndRaster(opts, c, ann)
}

// writeScatterAndRaster draws compare's Q scatter and spike raster into opts.Out.
func writeScatterAndRaster(opts *CompareOptions, c *convert.Comparison, ann *model.Network) error {
	xLabel := "ANN output (Q, ANN units)"
	what := "ANN"
	if c.ScatterSource {
		what, xLabel = "its source network ("+filepath.Base(opts.Source)+")", "source network output (its units)"
	}
	if err := writeFile(filepath.Join(opts.Out, compareQScatterPNG), func(w io.Writer) error {
		return report.WriteQScatter(w, fmt.Sprintf("SNN %s vs %s, %d states, T=%d", filepath.Base(opts.SNN), what, c.FixedStates, c.ScatterT),
			xLabel, c.ScatterANN, c.ScatterSNN, ann.OutputSize(), []string{"push left (0)", "push right (1)"})
	}); err != nil {
		return err
	}
	return writeRaster(opts, c)
}

// writeRaster records one decision (the first fixed state) at the scatter T.
func writeRaster(opts *CompareOptions, c *convert.Comparison) error {
	s, _, err := formats.LoadSNN(opts.SNN)
	if err != nil {
		return err
	}
	events, _, err := convert.Raster(s, c.RasterState, c.ScatterT, compareRasterMaxSpks)
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
	return writeFile(filepath.Join(opts.Out, compareSpikeRaster), func(w io.Writer) error {
		return report.WriteSpikeRaster(w, fmt.Sprintf("Spikes of one decision (first fixed state), T=%d", c.ScatterT), spikes, sizes, names, c.ScatterT)
	})
}

func writeCompareText(w io.Writer, opts *CompareOptions, c *convert.Comparison) error {
	fmt.Fprintf(w, "ANN %s: return %.2f ± %.2f over %d episodes, %d MACs per decision; %d fixed states, mean margin %.4f\n",
		opts.ANN, c.ANN.ReturnsMean, c.ANN.ReturnsStd, c.Episodes, c.ANN.MACs, c.FixedStates, c.ANN.MarginMean)
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
	_, err := fmt.Fprintf(w, "wrote %s, %s and plots into %s\n", compareJSONFile, compareCSVFile, opts.Out)
	return err
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
		// Its SNN (unit scales) converges to the clipped network as T grows.
		return model.ClipFloorPredictor(net, 0), nil
	}
	ws := net.NewWorkspace(1)
	return func(dst, x []float32) { net.Forward(dst, x, ws) }, nil
}
