package env

import (
	"math"
	"testing"
)

// TestReturnStats: returns 10, 20, 60 have mean 30 and population std
// sqrt((400 + 100 + 900) / 3).
func TestReturnStats(t *testing.T) {
	mean, std, lo, hi := ReturnStats([]float64{20, 10, 60})
	if mean != 30 || math.Abs(std-math.Sqrt(1400.0/3)) > 1e-12 || lo != 10 || hi != 60 {
		t.Fatalf("got mean %v std %v min %v max %v", mean, std, lo, hi)
	}
	if mean, std, lo, hi := ReturnStats(nil); mean != 0 || std != 0 || lo != 0 || hi != 0 {
		t.Fatalf("no returns: got %v %v %v %v, want zeros", mean, std, lo, hi)
	}
}
