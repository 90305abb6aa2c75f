package report

import (
	"fmt"
	"io"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// WriteErrorCurve draws an online learner's error per trial against the
// simulated time at the trial's end, with its moving mean over window
// trials, as a PNG at 150 dpi.
func WriteErrorCurve(w io.Writer, title string, trialSeconds float64, errs []float64, window int) error {
	if len(errs) == 0 || !(trialSeconds > 0) {
		return fmt.Errorf("report: error curve: %d trials of %v s", len(errs), trialSeconds)
	}
	pts := make(plotter.XYs, len(errs))
	for i, v := range errs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("report: error curve: trial %d error is %v", i, v)
		}
		pts[i] = plotter.XY{X: float64(i+1) * trialSeconds, Y: v}
	}
	mean := MovingMean(errs, window)
	meanPts := make(plotter.XYs, len(mean))
	for i, v := range mean {
		meanPts[i] = plotter.XY{X: pts[i].X, Y: v}
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "simulated time (s)"
	p.Y.Label.Text = "error RMS per trial (feedback on)"
	p.Legend.Top = true
	sc, err := plotter.NewScatter(pts)
	if err != nil {
		return err
	}
	sc.GlyphStyle.Color = truthColor
	sc.GlyphStyle.Radius = vg.Points(1.5)
	line, err := plotter.NewLine(meanPts)
	if err != nil {
		return err
	}
	line.Color = predColor
	line.Width = vg.Points(2)
	p.Add(sc, line)
	p.Legend.Add("trial", sc)
	p.Legend.Add(fmt.Sprintf("moving mean (%d trials)", max(window, 1)), line)
	canvas := vgimg.NewWith(vgimg.UseWH(16*vg.Centimeter, 9*vg.Centimeter), vgimg.UseDPI(150))
	p.Draw(draw.New(canvas))
	_, err = vgimg.PngCanvas{Canvas: canvas}.WriteTo(w)
	return err
}
