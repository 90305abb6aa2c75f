package report

import (
	"fmt"
	"image/color"
	"io"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Series is one named line of values over the T sweep.
type Series struct {
	Name   string
	Values []float64
}

var comparePalette = []color.Color{
	color.RGBA{R: 20, G: 60, B: 160, A: 255},
	color.RGBA{R: 210, G: 60, B: 20, A: 255},
	color.RGBA{R: 30, G: 140, B: 60, A: 255},
	color.RGBA{R: 130, G: 60, B: 160, A: 255},
	color.RGBA{R: 120, G: 120, B: 120, A: 255},
}

// seriesLine is series i of a sweep plot: a 1.5 pt line with markers in
// the i-th palette colour and marker shape; it returns the colour too.
func seriesLine(pts plotter.XYs, i int) (*plotter.Line, *plotter.Scatter, color.Color, error) {
	line, points, err := plotter.NewLinePoints(pts)
	if err != nil {
		return nil, nil, nil, err
	}
	c := comparePalette[i%len(comparePalette)]
	line.Color, points.Color = c, c
	points.Shape = plotutil.Shape(i)
	line.Width = vg.Points(1.5)
	return line, points, c, nil
}

// errorBars draws errs around pts in colour c.
func errorBars(pts plotter.XYs, errs plotter.YErrors, c color.Color) (*plotter.YErrorBars, error) {
	eb, err := plotter.NewYErrorBars(struct {
		plotter.XYer
		plotter.YErrorer
	}{pts, errs})
	if err != nil {
		return nil, err
	}
	eb.Color = c
	return eb, nil
}

func writePNG(w io.Writer, p *plot.Plot, what string) error {
	canvas := vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(18*vg.Centimeter, 11*vg.Centimeter), vgimg.UseDPI(150))}
	p.Draw(draw.New(canvas))
	if _, err := canvas.WriteTo(w); err != nil {
		return fmt.Errorf("report: %s: write PNG: %w", what, err)
	}
	return nil
}

// log2Ticks labels a log2 T axis with the measured T values.
type log2Ticks []int

func (t log2Ticks) Ticks(min, max float64) []plot.Tick {
	var out []plot.Tick
	for _, v := range t {
		out = append(out, plot.Tick{Value: float64(v), Label: fmt.Sprint(v)})
	}
	return out
}

func checkSweep(what string, ts []int, series []Series) error {
	if len(ts) == 0 {
		return fmt.Errorf("report: %s: no timesteps", what)
	}
	for _, t := range ts {
		if t <= 0 {
			return fmt.Errorf("report: %s: timesteps %d, want > 0 (log axis)", what, t)
		}
	}
	for _, s := range series {
		if len(s.Values) != len(ts) {
			return fmt.Errorf("report: %s: series %q has %d values for %d timesteps", what, s.Name, len(s.Values), len(ts))
		}
		for i, v := range s.Values {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("report: %s: series %q value %d is %v", what, s.Name, i, v)
			}
		}
	}
	return nil
}

func sweepPlot(title, ylabel string, ts []int) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "timesteps per decision T (log scale)"
	p.Y.Label.Text = ylabel
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = log2Ticks(ts)
	p.X.Min, p.X.Max = float64(ts[0])/1.2, float64(ts[len(ts)-1])*1.2
	p.Add(plotter.NewGrid())
	p.Legend.Left = false
	return p
}

// WriteAgreementPlot draws agreement (in %) against T, one line per series,
// with reference points (e.g. DSQNReferences) drawn as crosses, in order.
func WriteAgreementPlot(w io.Writer, title string, ts []int, series []Series, refs []Reference) error {
	if err := checkSweep("agreement plot", ts, series); err != nil {
		return err
	}
	p := sweepPlot(title, "action agreement (%)", ts)
	p.Y.Min, p.Y.Max = 0, 100
	for i, s := range series {
		pts := make(plotter.XYs, len(ts))
		for k, t := range ts {
			pts[k] = plotter.XY{X: float64(t), Y: 100 * s.Values[k]}
		}
		line, points, _, err := seriesLine(pts, i)
		if err != nil {
			return fmt.Errorf("report: agreement plot: %w", err)
		}
		p.Add(line, points)
		p.Legend.Add(s.Name, line, points)
	}
	for k, ref := range refs {
		sc, err := plotter.NewScatter(plotter.XYs{{X: float64(ref.Timesteps), Y: 100 * ref.Agreement}})
		if err != nil {
			return fmt.Errorf("report: agreement plot: %w", err)
		}
		sc.GlyphStyle.Shape = draw.CrossGlyph{}
		sc.GlyphStyle.Radius = vg.Points(4)
		sc.GlyphStyle.Color = comparePalette[(len(series)+k)%len(comparePalette)]
		p.Add(sc)
		p.Legend.Add(ref.Name, sc)
	}
	return writePNG(w, p, "agreement plot")
}

// WriteReturnPlot draws the SNN's mean return ± std against T and the ANN's
// mean return as a horizontal line.
func WriteReturnPlot(w io.Writer, title string, ts []int, mean, std []float64, annMean, annStd float64) error {
	if err := checkSweep("return plot", ts, []Series{{"mean", mean}, {"std", std}}); err != nil {
		return err
	}
	p := sweepPlot(title, "return per episode (mean ± std)", ts)
	p.Y.Min = 0
	pts := make(plotter.XYs, len(ts))
	errs := make(plotter.YErrors, len(ts))
	for k, t := range ts {
		pts[k] = plotter.XY{X: float64(t), Y: mean[k]}
		errs[k].Low, errs[k].High = std[k], std[k]
	}
	line, points, err := plotter.NewLinePoints(pts)
	if err != nil {
		return fmt.Errorf("report: return plot: %w", err)
	}
	line.Color, points.Color = comparePalette[0], comparePalette[0]
	eb, err := errorBars(pts, errs, comparePalette[0])
	if err != nil {
		return fmt.Errorf("report: return plot: %w", err)
	}
	ann, err := plotter.NewLine(plotter.XYs{{X: p.X.Min, Y: annMean}, {X: p.X.Max, Y: annMean}})
	if err != nil {
		return fmt.Errorf("report: return plot: %w", err)
	}
	ann.Color = comparePalette[1]
	ann.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	ann.Width = vg.Points(1.5)
	p.Add(line, points, eb, ann)
	p.Legend.Add("SNN (mean ± std)", line, points)
	p.Legend.Add(fmt.Sprintf("ANN (%.1f ± %.1f)", annMean, annStd), ann)
	// Returns are never negative; leave room above the ANN line for the legend.
	p.Y.Min = 0
	p.Y.Max = math.Max(p.Y.Max, annMean*1.25)
	p.Legend.Top = true
	return writePNG(w, p, "return plot")
}

// WriteQScatter draws the SNN's outputs against the ANN's, one point per
// state and action, with the identity line.
func WriteQScatter(w io.Writer, title, xLabel string, ann, snn []float32, actions int, actionNames []string) error {
	if len(ann) != len(snn) || len(ann) == 0 || actions <= 0 || len(ann)%actions != 0 {
		return fmt.Errorf("report: Q scatter: %d ANN and %d SNN values for %d actions", len(ann), len(snn), actions)
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xLabel
	p.Y.Label.Text = "SNN output (integrator / T, same units)"
	p.Add(plotter.NewGrid())
	p.Legend.Top, p.Legend.Left = true, true
	lo, hi := math.Inf(1), math.Inf(-1)
	for a := 0; a < actions; a++ {
		var pts plotter.XYs
		for i := a; i < len(ann); i += actions {
			x, y := float64(ann[i]), float64(snn[i])
			pts = append(pts, plotter.XY{X: x, Y: y})
			lo, hi = math.Min(lo, math.Min(x, y)), math.Max(hi, math.Max(x, y))
		}
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return fmt.Errorf("report: Q scatter: %w", err)
		}
		sc.GlyphStyle.Radius = vg.Points(1)
		sc.GlyphStyle.Shape = draw.CircleGlyph{}
		sc.GlyphStyle.Color = comparePalette[a%len(comparePalette)]
		p.Add(sc)
		name := fmt.Sprintf("action %d", a)
		if a < len(actionNames) {
			name = actionNames[a]
		}
		p.Legend.Add(name, sc)
	}
	diag, err := plotter.NewLine(plotter.XYs{{X: lo, Y: lo}, {X: hi, Y: hi}})
	if err != nil {
		return fmt.Errorf("report: Q scatter: %w", err)
	}
	diag.Color = color.Gray{Y: 80}
	diag.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(diag)
	p.Legend.Add("y = x (SNN equals the reference)", diag)
	return writePNG(w, p, "Q scatter")
}

// Spike is one spike for a raster: step and neuron within layer (-1 for the
// input encoder).
type Spike struct {
	Step, Layer, Neuron int
}

// WriteSpikeRaster draws the spikes of one decision: x the time step, y the
// neuron, with layers stacked (layer l above layer l-1) and coloured.
func WriteSpikeRaster(w io.Writer, title string, spikes []Spike, layerSizes []int, layerNames []string, T int) error {
	if T <= 0 || len(layerSizes) == 0 {
		return fmt.Errorf("report: spike raster: T %d and %d layers", T, len(layerSizes))
	}
	offset := make([]int, len(layerSizes)+1)
	for l, n := range layerSizes {
		offset[l+1] = offset[l] + n
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "time step within the decision"
	p.Y.Label.Text = "neuron, layer by layer (each band one layer)"
	p.X.Min, p.X.Max = -0.5, float64(T)-0.5
	// Headroom above the top layer keeps the legend off the spikes.
	p.Y.Min, p.Y.Max = -0.5, 1.2*float64(offset[len(layerSizes)])-0.5
	p.Legend.Top = true
	ticks := make(layerTicks, len(layerSizes))
	for l := range layerSizes {
		name := fmt.Sprintf("layer %d", l+1)
		if l < len(layerNames) {
			name = layerNames[l]
		}
		ticks[l] = plot.Tick{Value: float64(offset[l]+offset[l+1]-1) / 2, Label: name}
	}
	p.Y.Tick.Marker = ticks
	byLayer := make([]plotter.XYs, len(layerSizes))
	for _, s := range spikes {
		if s.Layer < 0 || s.Layer >= len(layerSizes) || s.Step < 0 || s.Step >= T {
			continue
		}
		byLayer[s.Layer] = append(byLayer[s.Layer], plotter.XY{X: float64(s.Step), Y: float64(offset[s.Layer] + s.Neuron)})
	}
	for l, pts := range byLayer {
		name := fmt.Sprintf("layer %d", l+1)
		if l < len(layerNames) {
			name = layerNames[l]
		}
		name = fmt.Sprintf("%s (%d spikes)", name, len(pts))
		if len(pts) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return fmt.Errorf("report: spike raster: %w", err)
		}
		sc.GlyphStyle.Shape = draw.BoxGlyph{}
		sc.GlyphStyle.Radius = vg.Points(1.2)
		sc.GlyphStyle.Color = comparePalette[l%len(comparePalette)]
		p.Add(sc)
		p.Legend.Add(name, sc)
	}
	for l := 1; l < len(layerSizes); l++ {
		sep, err := plotter.NewLine(plotter.XYs{{X: p.X.Min, Y: float64(offset[l]) - 0.5}, {X: p.X.Max, Y: float64(offset[l]) - 0.5}})
		if err != nil {
			return fmt.Errorf("report: spike raster: %w", err)
		}
		sep.Color = color.Gray{Y: 160}
		p.Add(sep)
	}
	return writePNG(w, p, "spike raster")
}

// layerTicks labels each layer's band of a raster at its middle.
type layerTicks []plot.Tick

func (t layerTicks) Ticks(min, max float64) []plot.Tick { return t }
