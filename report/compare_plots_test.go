package report

import (
	"bytes"
	"image/png"
	"math"
	"strings"
	"testing"
)

func decodePNG(t *testing.T, what string, data []byte) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: not a PNG: %v", what, err)
	}
	// 18 x 11 cm at 150 dpi.
	if b := img.Bounds(); b.Dx() != 1063 || b.Dy() != 650 {
		t.Errorf("%s: %dx%d pixels, want 1063x650", what, b.Dx(), b.Dy())
	}
}

func TestComparePlots(t *testing.T) {
	ts := []int{8, 16, 32}
	var buf bytes.Buffer
	if err := WriteAgreementPlot(&buf, "agreement", ts, []Series{{"own", []float64{0.8, 0.9, 0.95}}},
		DSQNReferences); err != nil {
		t.Fatal(err)
	}
	decodePNG(t, "agreement", buf.Bytes())
	buf.Reset()
	if err := WriteReturnPlot(&buf, "return", ts, []float64{200, 400, 500}, []float64{50, 20, 0}, 500, 0); err != nil {
		t.Fatal(err)
	}
	decodePNG(t, "return", buf.Bytes())
	buf.Reset()
	if err := WriteQScatter(&buf, "q", "ANN", []float32{1, 2, 3, 4}, []float32{1.1, 2.2, 2.9, 4.1}, 2, []string{"left", "right"}); err != nil {
		t.Fatal(err)
	}
	decodePNG(t, "scatter", buf.Bytes())
	buf.Reset()
	if err := WriteSpikeRaster(&buf, "raster", []Spike{{0, 0, 1}, {3, 1, 2}}, []int{4, 4}, []string{"fc1", "fc2"}, 8); err != nil {
		t.Fatal(err)
	}
	decodePNG(t, "raster", buf.Bytes())
}

func TestComparePlotsBadInput(t *testing.T) {
	var buf bytes.Buffer
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"no T", WriteAgreementPlot(&buf, "", nil, nil, nil), "no timesteps"},
		{"T = 0", WriteAgreementPlot(&buf, "", []int{0, 8}, nil, nil), "timesteps 0"},
		{"length", WriteAgreementPlot(&buf, "", []int{8, 16}, []Series{{"own", []float64{1}}}, nil), `series "own" has 1 values for 2 timesteps`},
		{"NaN", WriteReturnPlot(&buf, "", []int{8}, []float64{math.NaN()}, []float64{0}, 1, 0), "is NaN"},
		{"scatter", WriteQScatter(&buf, "", "", []float32{1, 2}, []float32{1}, 2, nil), "2 ANN and 1 SNN values"},
		{"raster T", WriteSpikeRaster(&buf, "", nil, []int{4}, nil, 0), "T 0"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, c.err, c.want)
		}
	}
}
