package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/workflow"
)

// Signals: SIGINT and SIGTERM are handled alike. A verb that can stop
// cleanly (training: it writes a checkpoint) takes an interruptContext;
// the first signal cancels it and the verb returns on its own. Otherwise,
// and on a second signal, the temporary files being written are removed
// and the process exits with 128 + the signal's number.

// interruptContext returns a context that SIGINT or SIGTERM cancels (once
// handleSignals runs); stop releases it.
var interruptContext = workflow.InterruptContext

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
				if workflow.CancelInterrupts() > 0 && !graceful {
					graceful = true
					fmt.Fprintf(errOut, "spikebridge: %v: stopping at the next checkpoint (again to stop at once)\n", sig)
					continue
				}
				removed := formats.RemoveTempFiles()
				fmt.Fprintf(errOut, "spikebridge: %v: stopped (%d temporary files removed)\n", sig, removed)
				os.Exit(128 + int(sig.(syscall.Signal)))
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
	}
}
