package workflow

import (
	"context"
	"sync"
)

// Interrupts: a job that can stop cleanly (training: it writes a
// checkpoint) runs under an InterruptContext; the process's signal handler
// (cmd/spikebridge) cancels them all with CancelInterrupts and, when none
// was running, stops the process itself.
var interrupts = struct {
	sync.Mutex
	cancels map[int]context.CancelFunc
	next    int
}{cancels: map[int]context.CancelFunc{}}

// InterruptContext returns a context that CancelInterrupts cancels; stop
// releases it.
func InterruptContext() (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	interrupts.Lock()
	id := interrupts.next
	interrupts.next++
	interrupts.cancels[id] = cancel
	interrupts.Unlock()
	return ctx, func() {
		interrupts.Lock()
		delete(interrupts.cancels, id)
		interrupts.Unlock()
		cancel()
	}
}

// CancelInterrupts cancels every InterruptContext not yet stopped and
// says how many there were.
func CancelInterrupts() int {
	interrupts.Lock()
	defer interrupts.Unlock()
	for _, cancel := range interrupts.cancels {
		cancel()
	}
	return len(interrupts.cancels)
}
