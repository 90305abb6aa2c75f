// Command spikebridge trains, imports and converts neural networks into
// spiking networks and compares ANN and SNN agents in closed loop.
package main

import (
	"os"
)

func main() {
	stop := handleSignals(os.Stderr)
	code := execute(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
