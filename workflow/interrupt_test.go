package workflow

import "testing"

// CancelInterrupts cancels the contexts not yet stopped, counts them, and
// leaves a stopped one out.
func TestCancelInterrupts(t *testing.T) {
	first, stopFirst := InterruptContext()
	second, stopSecond := InterruptContext()
	stopSecond()
	if n := CancelInterrupts(); n != 1 {
		t.Fatalf("CancelInterrupts with one context running = %d, want 1", n)
	}
	if first.Err() == nil || second.Err() == nil {
		t.Fatalf("after CancelInterrupts and stop: contexts' errors %v, %v, want both canceled", first.Err(), second.Err())
	}
	stopFirst()
	if n := CancelInterrupts(); n != 0 {
		t.Fatalf("CancelInterrupts after every stop = %d, want 0", n)
	}
}
