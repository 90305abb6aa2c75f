package env

import "testing"

// TestProbeMemoryBytes: 2 trials of 1 s at dt 0.5 hold 3 samples each of 6
// float64 values, three times over.
func TestProbeMemoryBytes(t *testing.T) {
	if got := (ProbeConfig{Trials: 2, Duration: 1, Dt: 0.5}).MemoryBytes(); got != 2*3*6*8*3 {
		t.Fatalf("got %v bytes, want %v", got, 2*3*6*8*3)
	}
}
