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
)

// EpropCurve is the learning curve of an e-prop run: per-iteration batch
// loss and recall accuracy, their moving means over Window iterations, and
// optional accuracies on fresh trials (EvalIterations, EvalAccuracy).
type EpropCurve struct {
	Title          string
	Loss, Accuracy []float64
	Window         int
	EvalIterations []float64
	EvalAccuracy   []float64
}

// WriteEpropCurve draws the curve as a PNG: loss and accuracy share the y
// axis (cross-entropy of two classes starts near ln 2 = 0.69).
func WriteEpropCurve(w io.Writer, c EpropCurve) error {
	if len(c.Loss) != len(c.Accuracy) || len(c.Loss) == 0 {
		return fmt.Errorf("report: e-prop curve: %d losses and %d accuracies, want the same nonzero count", len(c.Loss), len(c.Accuracy))
	}
	if len(c.EvalIterations) != len(c.EvalAccuracy) {
		return fmt.Errorf("report: e-prop curve: %d evaluation iterations for %d accuracies", len(c.EvalIterations), len(c.EvalAccuracy))
	}
	top := 1.6 // headroom above accuracy 1 keeps the legend off the curves
	for i, v := range c.Loss {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("report: e-prop curve: loss %d is %v", i, v)
		}
		top = math.Max(top, v*1.6)
	}
	p := plot.New()
	p.Title.Text = c.Title
	p.X.Label.Text = "iteration"
	p.Y.Label.Text = "loss / recall accuracy"
	p.Y.Min, p.Y.Max = 0, top
	p.Legend.Top = true
	p.Legend.Left = true
	series := []struct {
		name   string
		values []float64
		col    color.Color
		width  vg.Length
	}{
		{"batch loss", c.Loss, color.RGBA{R: 230, G: 160, B: 150, A: 255}, vg.Points(0.7)},
		{"batch accuracy", c.Accuracy, color.RGBA{R: 150, G: 180, B: 230, A: 255}, vg.Points(0.7)},
		{fmt.Sprintf("loss, mean of %d", max(c.Window, 1)), MovingMean(c.Loss, c.Window), color.RGBA{R: 200, G: 30, B: 20, A: 255}, vg.Points(1.6)},
		{fmt.Sprintf("accuracy, mean of %d", max(c.Window, 1)), MovingMean(c.Accuracy, c.Window), color.RGBA{R: 20, G: 60, B: 200, A: 255}, vg.Points(1.6)},
	}
	for _, s := range series {
		pts := make(plotter.XYs, len(s.values))
		for i, v := range s.values {
			pts[i] = plotter.XY{X: float64(i), Y: v}
		}
		line, err := plotter.NewLine(pts)
		if err != nil {
			return fmt.Errorf("report: e-prop curve: %w", err)
		}
		line.Color, line.Width = s.col, s.width
		p.Add(line)
		p.Legend.Add(s.name, line)
	}
	if len(c.EvalIterations) > 0 {
		pts := make(plotter.XYs, len(c.EvalIterations))
		for i := range pts {
			pts[i] = plotter.XY{X: c.EvalIterations[i], Y: c.EvalAccuracy[i]}
		}
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return fmt.Errorf("report: e-prop curve: %w", err)
		}
		sc.GlyphStyle.Shape = draw.CircleGlyph{}
		sc.GlyphStyle.Radius = vg.Points(3)
		sc.GlyphStyle.Color = color.Black
		p.Add(sc)
		p.Legend.Add("accuracy on fresh trials", sc)
	}
	return writePNG(w, p, "e-prop curve")
}
