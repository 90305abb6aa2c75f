package export

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/internal/testfixtures"
	"github.com/spikebridge/spikebridge/snn"
)

// requirePython skips unless /usr/bin/python3 imports module.
func requirePython(t *testing.T, module, debian string) {
	t.Helper()
	if out, err := exec.Command("/usr/bin/python3", "-c", "import "+module).CombinedOutput(); err != nil {
		t.Skipf("/usr/bin/python3 cannot import %s (Debian package %s): %v\n%s", module, debian, err, lastLine(out))
	}
}

func lastLine(b []byte) string {
	s := string(b)
	for len(s) > 0 && s[len(s)-1] == '\n' {
		s = s[:len(s)-1]
	}
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '\n' {
			return s[i+1:]
		}
	}
	return s
}

// ffNetwork builds brian2_ff_seed1.npz's network (Brian2's ff benchmark:
// rate-encoded input, three IF layers with constant drives, subtractive
// reset, next-step) in float32, and returns it with the fixture's inputs.
func ffNetwork(t *testing.T) (*snn.Network, []float32, int) {
	path := testfixtures.Dir(t, "snn", "brian2_ff_seed1.npz")
	arrays, err := formats.ReadNPZ(path)
	if err != nil {
		t.Skip(err)
	}
	spec := snn.Network{Input: snn.InputOf[float32]{Encoding: snn.Rate, Gain: 1, Threshold: 1},
		Timesteps: int(arrays["steps"].Data[0]), Propagation: snn.NextStep, Readout: snn.Spikes, OutputScale: 1}
	for l := range 3 {
		w := arrays[fmt.Sprintf("W%d", l)] // (in, out)
		in, out := w.Shape[0], w.Shape[1]
		layer := snn.Layer{Name: fmt.Sprintf("L%d", l+1), In: in, Out: out, Weights: make([]float32, in*out),
			Bias: arrays[fmt.Sprintf("b%d", l+1)].Float32s(), Threshold: 1, Leak: 1, Reset: snn.ResetSubtract}
		for i := range in {
			for o := range out {
				layer.Weights[o*in+i] = float32(w.Data[i*out+o])
			}
		}
		spec.Layers = append(spec.Layers, layer)
	}
	net, err := snn.New(spec)
	if err != nil {
		t.Fatal(err)
	}
	x := arrays["X"]
	return net, x.Float32s(), x.Shape[0]
}

// RunScript writes s next to a fresh directory, feeds it states and returns
// the result arrays.
func runScript(t *testing.T, s *Script, states []float32, rows, width int, args ...string) map[string]*formats.Array {
	t.Helper()
	dir := t.TempDir()
	py := filepath.Join(dir, "net.py")
	if err := os.WriteFile(py, s.Python, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "net.npz"), s.Weights, 0o644); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "input.npz")
	f, err := os.Create(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := formats.EncodeNPZ(f, []*formats.Array{formats.NewFloat32Array("states", []int{rows, width}, states)}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out := filepath.Join(dir, "result.npz")
	cmd := exec.Command("/usr/bin/python3", append([]string{py, in, out}, args...)...)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", py, err, b)
	}
	res, err := formats.ReadNPZ(out)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// compareCounts compares a script's result with our float64 simulation of
// the same network: per-row spike counts of every spiking layer and the
// actions. It returns the number of rows whose counts all match and the
// number of matching actions.
func compareCounts(t *testing.T, net *snn.Network, res map[string]*formats.Array, states []float32, rows int) (countRows, actions int) {
	t.Helper()
	ref, err := Float64Copy(net)
	if err != nil {
		t.Fatal(err)
	}
	st := ref.NewState(1)
	in := net.InputSize()
	for r := 0; r < rows; r++ {
		x := make([]float64, in)
		for i := range x {
			x[i] = float64(states[r*in+i])
		}
		a, err := ref.Run(nil, x, st, 0)
		if err != nil {
			t.Fatal(err)
		}
		if int64(res["actions"].Data[r]) == int64(a) {
			actions++
		}
		same := true
		for l, layer := range net.Layers {
			c := res["spike_counts_"+nonWord.ReplaceAllString(layer.Name, "_")]
			if c == nil {
				continue // the integrator
			}
			for o, k := range st.Counts(0, l) {
				if int64(c.Data[r*layer.Out+o]) != int64(k) {
					same = false
				}
			}
		}
		if same {
			countRows++
		}
	}
	return countRows, actions
}

func TestBrian2ScriptFF(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Brian2 for about a minute; skipped with -short")
	}
	requirePython(t, "brian2", "python3-brian")
	net, states, rows := ffNetwork(t)
	s, err := Brian2Script(net, Options{Source: "brian2_ff_seed1.npz", Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Fidelity() != Faithful {
		t.Errorf("fidelity %s, want faithful for a next-step network: %+v", s.Fidelity(), s.Grades)
	}
	res := runScript(t, s, states, rows, net.InputSize())
	counts, actions := compareCounts(t, net, res, states, rows)
	t.Logf("Brian2 script vs snn float64 next-step: spike counts equal on %d/%d rows, actions %d/%d", counts, rows, actions, rows)
	if counts != rows || actions != rows {
		t.Fatalf("Brian2 disagrees: counts %d/%d rows, actions %d/%d", counts, rows, actions, rows)
	}
}
