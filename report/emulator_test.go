package report

import (
	"bytes"
	"image/png"
	"math"
	"strings"
	"testing"
)

func TestEmulatorPlots(t *testing.T) {
	tr := EmulatorTraces{Title: "t", Dt: 0.1, Steps: 20, Names: []string{"x", "y"}}
	for k := 0; k < 20; k++ {
		tr.True = append(tr.True, math.Sin(float64(k)/3), math.Cos(float64(k)/3))
		tr.Predicted = append(tr.Predicted, math.Sin(float64(k)/3)+0.05, math.NaN())
	}
	var a, b bytes.Buffer
	if err := WriteEmulatorTraces(&a, tr); err != nil {
		t.Fatal(err)
	}
	if err := WriteEmulatorTraces(&b, tr); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("the same traces give different images")
	}
	img, err := png.Decode(&a)
	if err != nil {
		t.Fatal(err)
	}
	if h := img.Bounds().Dy(); h < 2*265 {
		t.Errorf("image height %d px, want two panels", h)
	}
	var c bytes.Buffer
	if err := WriteNRMSEPlot(&c, "arm", []string{"q1", "q2"}, []NRMSESeries{{"ann", []float64{0.05, 0.07}}, {"snn T=32", []float64{0.06, 0.08}}}, 0.1); err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(&c); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{WriteEmulatorTraces(&c, EmulatorTraces{Names: []string{"x"}, Steps: 3}), "1 names, 3 steps"},
		{WriteNRMSEPlot(&c, "", []string{"q1"}, []NRMSESeries{{"ann", []float64{1, 2}}}, 0), `series "ann" has 2 values for 1 dimensions`},
		{WriteNRMSEPlot(&c, "", []string{"q1"}, []NRMSESeries{{"ann", []float64{math.NaN()}}}, 0), "dimension q1 is NaN"},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("error %v, want %q", tc.err, tc.want)
		}
	}
}
