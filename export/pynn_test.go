package export

import (
	"os"
	"strconv"
	"testing"

	"github.com/spikebridge/spikebridge/snn"
)

// requirePyNN skips unless SPIKEBRIDGE_PYNN=1 and /usr/bin/python3 has
// PyNN: PyNN builds and runs its networks in Python and takes minutes, too
// long for every go test of the package (CI sets the variable).
func requirePyNN(t *testing.T) {
	t.Helper()
	if os.Getenv("SPIKEBRIDGE_PYNN") != "1" {
		t.Skip("PyNN script tests take minutes: set SPIKEBRIDGE_PYNN=1 to run them (needs Debian python3-pynn)")
	}
	requirePython(t, "pyNN.brian2", "python3-pynn")
}

// pynnRows bounds the rows the PyNN tests run (PyNN builds its connections
// in Python); SPIKEBRIDGE_PYNN_ROWS raises it.
func pynnRows(all int) int {
	n := 100
	if v, err := strconv.Atoi(os.Getenv("SPIKEBRIDGE_PYNN_ROWS")); err == nil && v > 0 {
		n = v
	}
	return min(n, all)
}

// TestPyNNScriptFF runs the ff network (reset by subtraction) and its
// reset-to-zero twin through PyNN's brian2 backend and reports the share of
// decisions equal to snn's float64 next-step simulation.
func TestPyNNScriptFF(t *testing.T) {
	requirePyNN(t)
	net, states, rows := ffNetwork(t)
	rows = pynnRows(rows)
	states = states[:rows*net.InputSize()]
	for _, reset := range []snn.ResetMode{snn.ResetSubtract, snn.ResetZero} {
		spec := *net
		spec.Layers = append([]snn.Layer(nil), net.Layers...)
		for i := range spec.Layers {
			spec.Layers[i].Reset = reset
		}
		variant, err := snn.New(spec)
		if err != nil {
			t.Fatal(err)
		}
		s, err := PyNNScript(variant, Options{Source: "brian2_ff_seed1.npz", Version: "test"})
		if err != nil {
			t.Fatal(err)
		}
		res := runScript(t, s, states, rows, net.InputSize(), "--simulator", "brian2")
		counts, actions := compareCounts(t, variant, res, states, rows)
		t.Logf("PyNN (brian2 backend) vs snn float64 next-step, reset %s: decisions %d/%d (%.1f%%), all spike counts equal on %d rows",
			reset, actions, rows, 100*float64(actions)/float64(rows), counts)
		if reset == snn.ResetZero && actions*100 < 99*rows {
			t.Errorf("reset-to-zero network: PyNN decisions agree on %d/%d rows, want >= 99%%", actions, rows)
		}
	}
}
