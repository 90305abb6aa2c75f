package probe

import (
	"math"
	"testing"
)

// MaskedMSE against a hand-computed value: the prediction is 2x, targets
// with NaN count nothing, and a set without any target gives NaN.
func TestMaskedMSE(t *testing.T) {
	nan := float32(math.NaN())
	s := &Samples{X: []float32{1, 2, 3}, Y: []float32{1, nan, 3, 5, nan, nan}, Rows: 3, In: 1, Out: 2}
	double := func(dst, x []float32) { dst[0], dst[1] = 2*x[0], 2*x[0] }
	// Errors: row 0: (2-1)²=1; row 1: (4-3)²=1, (4-5)²=1; row 2: none.
	if got, want := MaskedMSE(s, double), 3.0/3; got != want {
		t.Errorf("MaskedMSE = %v, want %v", got, want)
	}
	empty := &Samples{X: []float32{1}, Y: []float32{nan, nan}, Rows: 1, In: 1, Out: 2}
	if got := MaskedMSE(empty, double); !math.IsNaN(got) {
		t.Errorf("MaskedMSE of a set without targets = %v, want NaN", got)
	}
}
