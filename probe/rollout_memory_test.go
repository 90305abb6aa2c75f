package probe

import "testing"

// TestRolloutBytes: 1 s at dt 0.25 is 5 samples of 1 input, 2 targets
// traced twice and 1 state slot: 5 * 6 values * 8 bytes * 2.
func TestRolloutBytes(t *testing.T) {
	if got := RolloutBytes(1, 0.25, 1, 2); got != 5*6*8*2 {
		t.Fatalf("got %v bytes, want %v", got, 5*6*8*2)
	}
}
