package report

import (
	"fmt"
	"image/color"
	"io"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Curve is the data of a learning curve. EpisodeSteps[i] is the env step at
// which episode i ended with return Returns[i]; EvalSteps/EvalScores are
// greedy evaluations (mean return). Window is the moving-mean length.
type Curve struct {
	Title        string
	EpisodeSteps []float64
	Returns      []float64
	EvalSteps    []float64
	EvalScores   []float64
	Window       int
}

// MovingMean returns the mean of the last window values at each index
// (fewer at the start). It returns nil for an empty input.
func MovingMean(v []float64, window int) []float64 {
	if len(v) == 0 {
		return nil
	}
	window = max(window, 1)
	out := make([]float64, len(v))
	sum := 0.0
	for i, x := range v {
		sum += x
		if i >= window {
			sum -= v[i-window]
		}
		out[i] = sum / float64(min(i+1, window))
	}
	return out
}

// WriteLearningCurve draws episode returns, their moving mean and the
// evaluation points as a PNG of widthCM x heightCM centimetres at 150 dpi.
func WriteLearningCurve(w io.Writer, c Curve) error {
	if len(c.EpisodeSteps) != len(c.Returns) {
		return fmt.Errorf("report: learning curve: %d episode steps for %d returns", len(c.EpisodeSteps), len(c.Returns))
	}
	if len(c.EvalSteps) != len(c.EvalScores) {
		return fmt.Errorf("report: learning curve: %d evaluation steps for %d scores", len(c.EvalSteps), len(c.EvalScores))
	}
	for i, v := range c.Returns {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("report: learning curve: return %d is %v", i, v)
		}
	}
	p := plot.New()
	p.Title.Text = c.Title
	p.X.Label.Text = "env step (count)"
	p.Y.Label.Text = "return (reward per episode)"
	p.Legend.Top = true
	p.Legend.Left = true
	p.Add(plotter.NewGrid())

	if len(c.Returns) > 0 {
		if err := addScatter(p, c.EpisodeSteps, c.Returns, vg.Points(1), color.RGBA{R: 150, G: 170, B: 210, A: 255}, draw.CircleGlyph{},
			"episode return", "returns"); err != nil {
			return err
		}

		mm := MovingMean(c.Returns, c.Window)
		mpts := make(plotter.XYs, len(mm))
		for i := range mm {
			mpts[i] = plotter.XY{X: c.EpisodeSteps[i], Y: mm[i]}
		}
		line, err := plotter.NewLine(mpts)
		if err != nil {
			return fmt.Errorf("report: learning curve: moving mean: %w", err)
		}
		line.Color = color.RGBA{R: 20, G: 60, B: 160, A: 255}
		line.Width = vg.Points(1.5)
		p.Add(line)
		p.Legend.Add(fmt.Sprintf("moving mean (%d episodes)", max(c.Window, 1)), line)
	}
	if len(c.EvalScores) > 0 {
		if err := addScatter(p, c.EvalSteps, c.EvalScores, vg.Points(3), color.RGBA{R: 210, G: 60, B: 20, A: 255}, draw.TriangleGlyph{},
			"greedy evaluation (mean return)", "evaluations"); err != nil {
			return err
		}
	}
	// Returns are never negative here; leave headroom so the legend (top
	// left) does not cover the data.
	p.Y.Min = math.Min(p.Y.Min, 0)
	p.Y.Max += 0.25 * (p.Y.Max - p.Y.Min)
	canvas := vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(18*vg.Centimeter, 11*vg.Centimeter), vgimg.UseDPI(150))}
	p.Draw(draw.New(canvas))
	if _, err := canvas.WriteTo(w); err != nil {
		return fmt.Errorf("report: learning curve: write PNG: %w", err)
	}
	return nil
}

// addScatter adds the points (xs[i], ys[i]) of a learning curve as glyphs
// of the given radius, colour and shape, with a legend entry; what names
// the series in errors.
func addScatter(p *plot.Plot, xs, ys []float64, radius vg.Length, c color.Color, shape draw.GlyphDrawer, legend, what string) error {
	pts := make(plotter.XYs, len(ys))
	for i := range ys {
		pts[i] = plotter.XY{X: xs[i], Y: ys[i]}
	}
	sc, err := plotter.NewScatter(pts)
	if err != nil {
		return fmt.Errorf("report: learning curve: %s: %w", what, err)
	}
	sc.GlyphStyle.Radius = radius
	sc.GlyphStyle.Color = c
	sc.GlyphStyle.Shape = shape
	p.Add(sc)
	p.Legend.Add(legend, sc)
	return nil
}
