package convert

import "testing"

// TestMemoryEstimates: 500 steps of 16 float64 values per recorded
// episode; 500 steps of 2 x 8 float64 values per side of a comparison.
func TestMemoryEstimates(t *testing.T) {
	if got := RecordingBytes(3); got != 3*64000 {
		t.Errorf("RecordingBytes(3) = %v, want %v", got, 3*64000)
	}
	if got := ComparisonBytes(2); got != 2*64000 {
		t.Errorf("ComparisonBytes(2) = %v, want %v", got, 2*64000)
	}
}
