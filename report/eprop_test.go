package report

import (
	"bytes"
	"image/png"
	"math"
	"testing"
)

func TestWriteEpropCurve(t *testing.T) {
	var buf bytes.Buffer
	c := EpropCurve{Title: "e-prop", Loss: []float64{0.7, 0.6, 0.5}, Accuracy: []float64{0.5, 0.6, 0.9}, Window: 2,
		EvalIterations: []float64{2}, EvalAccuracy: []float64{0.92}}
	if err := WriteEpropCurve(&buf, c); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil || img.Bounds().Dx() < 500 {
		t.Fatalf("not a plot: %v", err)
	}
	c.Loss[1] = math.NaN()
	if err := WriteEpropCurve(&buf, c); err == nil {
		t.Fatal("NaN loss accepted")
	}
	if err := WriteEpropCurve(&buf, EpropCurve{Loss: []float64{1}}); err == nil {
		t.Fatal("mismatched lengths accepted")
	}
}
