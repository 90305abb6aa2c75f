package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/spikebridge/spikebridge/formats"
)

// Signals: SIGINT and SIGTERM are handled alike. A verb that can stop
// cleanly (training: it writes a checkpoint) takes an interruptContext;
// the first signal cancels it and the verb returns on its own. Otherwise,
// and on a second signal, the temporary files being written are removed
// and the process exits with 128 + the signal's number.

var interrupts = struct {
	sync.Mutex
	cancels map[int]context.CancelFunc
	next    int
}{cancels: map[int]context.CancelFunc{}}

// interruptContext returns a context that SIGINT or SIGTERM cancels (once
// handleSignals runs); stop releases it.
func interruptContext() (context.Context, func()) {
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

// handleSignals installs the process's SIGINT/SIGTERM handler; the
// returned function uninstalls it.
func handleSignals(errOut io.Writer) func() {
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		graceful := false
		for {
			select {
			case <-done:
				return
			case sig := <-ch:
				interrupts.Lock()
				n := len(interrupts.cancels)
				for _, cancel := range interrupts.cancels {
					cancel()
				}
				interrupts.Unlock()
				if n > 0 && !graceful {
					graceful = true
					fmt.Fprintf(errOut, "spikebridge: %v: stopping at the next checkpoint (again to stop at once)\n", sig)
					continue
				}
				removed := formats.RemoveTempFiles()
				fmt.Fprintf(errOut, "spikebridge: %v: stopped (%d temporary files removed)\n", sig, removed)
				code := 130
				if sig == syscall.SIGTERM {
					code = 143
				}
				os.Exit(code)
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
	}
}
