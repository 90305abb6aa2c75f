package env

import (
	"math"
	"path/filepath"
	"testing"
)

// TestSinCosMatchPython checks sinPy/cosPy against Python's math.sin/cos
// (testdata/sincos_cases.json from testdata/gen_sincos.py): angles where glibc is
// not correctly rounded, angles where Go's math.Sin/Cos disagree with it, and the
// edges of glibc's evaluation ranges.
func TestSinCosMatchPython(t *testing.T) {
	var fixture struct {
		Cases [][3]string `json:"cases"`
	}
	readJSON(t, filepath.Join("testdata", "sincos_cases.json"), &fixture)
	if len(fixture.Cases) < 100 {
		t.Fatalf("only %d cases", len(fixture.Cases))
	}
	goDiffers := 0
	for _, c := range fixture.Cases {
		x, wantSin, wantCos := parseHex(t, c[0]), parseHex(t, c[1]), parseHex(t, c[2])
		if got := sinPy(x); math.Float64bits(got) != math.Float64bits(wantSin) {
			t.Errorf("sinPy(%x) = %x, want %x", x, got, wantSin)
		}
		if got := cosPy(x); math.Float64bits(got) != math.Float64bits(wantCos) {
			t.Errorf("cosPy(%x) = %x, want %x", x, got, wantCos)
		}
		if math.Sin(x) != wantSin || math.Cos(x) != wantCos {
			goDiffers++
		}
	}
	// Documents why sinPy/cosPy exist: Go's own functions miss many of these.
	t.Logf("%d cases; math.Sin/math.Cos differ from Python on %d of them", len(fixture.Cases), goDiffers)
}

// TestSinCosFallback: beyond the table range the functions are Go's own.
func TestSinCosFallback(t *testing.T) {
	for _, x := range []float64{0.85546875, -1, 3, 1e9, math.Inf(1)} {
		if s, c := sinPy(x), cosPy(x); !(s == math.Sin(x) || math.IsNaN(s)) || !(c == math.Cos(x) || math.IsNaN(c)) {
			t.Errorf("x=%v: %v %v", x, s, c)
		}
	}
	if !math.IsNaN(sinPy(math.NaN())) || !math.IsNaN(cosPy(math.NaN())) {
		t.Error("NaN in, not NaN out")
	}
}
