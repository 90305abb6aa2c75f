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

// EmulatorTraces are predicted and true targets over one window: True and
// Predicted are (Steps, len(Names)) row-major, sampled every Dt seconds.
type EmulatorTraces struct {
	Title           string
	Dt              float64
	Steps           int
	Names           []string
	True, Predicted []float64
}

var (
	truthColor = color.RGBA{R: 40, G: 40, B: 40, A: 255}
	predColor  = color.RGBA{R: 210, G: 60, B: 20, A: 255}
)

// WriteEmulatorTraces draws one panel per target dimension, true (black)
// against predicted (red), as a PNG at 150 dpi. Missing (NaN) true samples
// are left out.
func WriteEmulatorTraces(w io.Writer, tr EmulatorTraces) error {
	dims := len(tr.Names)
	if dims == 0 || tr.Steps <= 0 || len(tr.True) < tr.Steps*dims || len(tr.Predicted) < tr.Steps*dims {
		return fmt.Errorf("report: emulator traces: %d names, %d steps, %d true and %d predicted values", dims, tr.Steps, len(tr.True), len(tr.Predicted))
	}
	const panelH = 4.5
	canvas := vgimg.NewWith(vgimg.UseWH(18*vg.Centimeter, vg.Length(panelH*float64(dims)+1)*vg.Centimeter), vgimg.UseDPI(150))
	dc := draw.New(canvas)
	tiles := draw.Tiles{Rows: dims, Cols: 1, PadTop: vg.Centimeter, PadBottom: vg.Points(4), PadX: vg.Points(4), PadY: vg.Points(8), PadLeft: vg.Points(4), PadRight: vg.Points(8)}
	for d := 0; d < dims; d++ {
		p := plot.New()
		if d == 0 {
			p.Title.Text = tr.Title
		}
		p.X.Label.Text = "time in window (s)"
		p.Y.Label.Text = tr.Names[d]
		p.Add(plotter.NewGrid())
		p.Legend.Top = true
		var truth, pred plotter.XYs
		for k := 0; k < tr.Steps; k++ {
			t := float64(k) * tr.Dt
			if v := tr.True[k*dims+d]; !math.IsNaN(v) {
				truth = append(truth, plotter.XY{X: t, Y: v})
			}
			if v := tr.Predicted[k*dims+d]; !math.IsNaN(v) && !math.IsInf(v, 0) {
				pred = append(pred, plotter.XY{X: t, Y: v})
			}
		}
		for _, s := range []struct {
			name string
			pts  plotter.XYs
			col  color.Color
			dash bool
		}{{"true", truth, truthColor, false}, {"predicted", pred, predColor, true}} {
			if len(s.pts) == 0 {
				continue
			}
			line, err := plotter.NewLine(s.pts)
			if err != nil {
				return fmt.Errorf("report: emulator traces: %s %s: %w", tr.Names[d], s.name, err)
			}
			line.Color = s.col
			line.Width = vg.Points(1.3)
			if s.dash {
				line.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
			}
			p.Add(line)
			p.Legend.Add(s.name, line)
		}
		p.Draw(tiles.At(dc, 0, d))
	}
	png := vgimg.PngCanvas{Canvas: canvas}
	if _, err := png.WriteTo(w); err != nil {
		return fmt.Errorf("report: emulator traces: write PNG: %w", err)
	}
	return nil
}

// NRMSESeries is one model's NRMSE per target dimension (e.g. "ann",
// "snn T=32", "spiking").
type NRMSESeries struct {
	Label  string
	Values []float64
}

// WriteNRMSEPlot draws grouped bars: one group per target dimension, one
// bar per model, with a dashed line at limit when limit > 0.
func WriteNRMSEPlot(w io.Writer, title string, names []string, series []NRMSESeries, limit float64) error {
	if len(series) == 0 || len(names) == 0 {
		return fmt.Errorf("report: NRMSE plot: %d series over %d dimensions", len(series), len(names))
	}
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = "NRMSE (RMSE / std of the target)"
	p.Add(plotter.NewGrid())
	width := vg.Points(math.Max(4, 60/float64(len(series))))
	// Ten distinct colours (matplotlib's tab10) before any repeats, and the
	// legend in a column of its own beside the plot, so no bar hides behind it.
	palette := []color.Color{
		color.RGBA{R: 31, G: 119, B: 180, A: 255}, color.RGBA{R: 255, G: 127, B: 14, A: 255},
		color.RGBA{R: 44, G: 160, B: 44, A: 255}, color.RGBA{R: 214, G: 39, B: 40, A: 255},
		color.RGBA{R: 148, G: 103, B: 189, A: 255}, color.RGBA{R: 140, G: 86, B: 75, A: 255},
		color.RGBA{R: 227, G: 119, B: 194, A: 255}, color.RGBA{R: 127, G: 127, B: 127, A: 255},
		color.RGBA{R: 188, G: 189, B: 34, A: 255}, color.RGBA{R: 23, G: 190, B: 207, A: 255},
	}
	legend := plot.NewLegend()
	legend.Top, legend.Left = true, true
	for i, s := range series {
		if len(s.Values) != len(names) {
			return fmt.Errorf("report: NRMSE plot: series %q has %d values for %d dimensions", s.Label, len(s.Values), len(names))
		}
		vals := make(plotter.Values, len(s.Values))
		for d, v := range s.Values {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("report: NRMSE plot: series %q dimension %s is %v", s.Label, names[d], v)
			}
			vals[d] = v
		}
		bars, err := plotter.NewBarChart(vals, width)
		if err != nil {
			return fmt.Errorf("report: NRMSE plot: %w", err)
		}
		bars.Color = palette[i%len(palette)]
		bars.LineStyle.Width = 0
		bars.Offset = width * vg.Length(float64(i)-float64(len(series)-1)/2)
		p.Add(bars)
		legend.Add(s.Label, bars)
	}
	if limit > 0 {
		line, err := plotter.NewLine(plotter.XYs{{X: -0.5, Y: limit}, {X: float64(len(names)) - 0.5, Y: limit}})
		if err != nil {
			return fmt.Errorf("report: NRMSE plot: %w", err)
		}
		line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		line.Color = color.Gray{Y: 90}
		p.Add(line)
		legend.Add(fmt.Sprintf("target %.2g", limit), line)
	}
	p.NominalX(names...)
	p.Y.Min, p.Y.Max = 0, 1.06*p.Y.Max // headroom above the tallest bar
	const legendWidth = 6 * vg.Centimeter
	canvas := vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(24*vg.Centimeter, 11*vg.Centimeter), vgimg.UseDPI(150))}
	dc := draw.New(canvas)
	p.Draw(draw.Crop(dc, 0, -legendWidth, 0, 0))
	legend.Draw(draw.Crop(dc, dc.Max.X-dc.Min.X-legendWidth+vg.Points(6), 0, 0, -vg.Points(20)))
	if _, err := canvas.WriteTo(w); err != nil {
		return fmt.Errorf("report: NRMSE plot: write PNG: %w", err)
	}
	return nil
}
