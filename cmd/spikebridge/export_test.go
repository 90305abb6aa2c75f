package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/spikebridge/spikebridge/convert"
	"github.com/spikebridge/spikebridge/export"
	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/formats/nir"
	"github.com/spikebridge/spikebridge/snn"
	"github.com/spikebridge/spikebridge/workflow"
)

// cartPoleSNN converts the seed-1 CartPole policy with DESIGN.md's baseline
// (T = 32), with propagation and hidden reset as given, saves it and
// returns the file, the network and 1000 recorded states.
func cartPoleSNN(t *testing.T, prop snn.Propagation, reset snn.ResetMode) (string, *snn.Network, []float32) {
	t.Helper()
	modelPath, expected := torchPolicyModel(t, "1")
	ann, _, err := formats.LoadModel(modelPath)
	if err != nil {
		t.Fatal(err)
	}
	arrays, err := formats.ReadNPZ(expected)
	if err != nil {
		t.Fatal(err)
	}
	st := arrays["states"]
	rows := min(1000, st.Shape[0])
	states := st.Float32s()[:rows*st.Shape[1]]
	opts := convert.BaselineOptions(32)
	opts.Propagation, opts.Reset = prop, reset
	net, _, err := convert.Convert(ann, convert.States{Data: st.Float32s(), Width: st.Shape[1]}, opts)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "snn.safetensors")
	if err := formats.SaveSNN(path, net, formats.SNNMeta{Provenance: formats.Provenance{Source: "torch_dqn_cartpole_seed1.pt"}}); err != nil {
		t.Fatal(err)
	}
	// The network as the file holds it (an integrator keeps no neuron parameters).
	if net, _, err = formats.LoadSNN(path); err != nil {
		t.Fatal(err)
	}
	return path, net, states
}

// runAll runs every state and returns the actions and, per row, the spike
// counts of every layer.
func runAll(t *testing.T, net *snn.Network, states []float32) ([]int, [][]int32) {
	t.Helper()
	rows := len(states) / net.InputSize()
	st := net.NewState(rows)
	actions := make([]int, rows)
	if err := net.RunBatch(nil, actions, states, rows, st, 0); err != nil {
		t.Fatal(err)
	}
	counts := make([][]int32, rows)
	for r := range counts {
		for l := range net.Layers {
			counts[r] = append(counts[r], st.Counts(r, l)...)
		}
	}
	return actions, counts
}

// TestExportImportNIRCartPole: the converted CartPole SNN exported to NIR
// and imported again gives identical parameters, actions and spike counts
// on 1000 recorded states.
func TestExportImportNIRCartPole(t *testing.T) {
	for _, prop := range []snn.Propagation{snn.SameStep, snn.NextStep} {
		path, net, states := cartPoleSNN(t, prop, snn.ResetSubtract)
		dir := t.TempDir()
		nirPath := filepath.Join(dir, "snn.nir")
		code, out, errOut := runCLI(t, "export", "--to", "nir", path, "-o", nirPath, "--json")
		if code != 0 {
			t.Fatalf("export: exit %d: %s", code, errOut)
		}
		var res workflow.ExportResult
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatal(err)
		}
		if res.Fidelity != "approximate" || len(res.Grades) == 0 {
			t.Errorf("baseline (subtractive reset, v(0) = θ/2) graded %q: %+v", res.Fidelity, res.Grades)
		}
		back := filepath.Join(dir, "back.safetensors")
		if code, _, errOut := runCLI(t, "import", "nir", nirPath, "-o", back); code != 0 {
			t.Fatalf("import nir: exit %d: %s", code, errOut)
		}
		got, _, err := formats.LoadSNN(back)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Layers, net.Layers) || got.Input != net.Input || got.Timesteps != net.Timesteps ||
			got.Propagation != net.Propagation || got.Readout != net.Readout || got.OutputScale != net.OutputScale {
			t.Fatalf("%s: the network read back differs", prop)
		}
		a1, c1 := runAll(t, net, states)
		a2, c2 := runAll(t, got, states)
		same := 0
		for r := range a1 {
			if a1[r] == a2[r] && reflect.DeepEqual(c1[r], c2[r]) {
				same++
			}
		}
		t.Logf("%s: NIR round trip: actions and spike counts identical on %d/%d states", prop, same, len(a1))
		if same != len(a1) {
			t.Fatalf("%s: %d/%d states identical", prop, same, len(a1))
		}
		g, err := nir.ReadFile(nirPath)
		if err != nil {
			t.Fatal(err)
		}
		if g.Metadata["source"] != "snn.safetensors" || !strings.HasPrefix(g.Metadata["tool"], "spikebridge ") || g.Metadata["fidelity"] != res.Fidelity {
			t.Errorf("the NIR file states source %q, tool %q, fidelity %q", g.Metadata["source"], g.Metadata["tool"], g.Metadata["fidelity"])
		}
		checkNIRWithHDF5Tools(t, nirPath, net)
	}
}

// checkNIRWithHDF5Tools reads an exported NIR file with libhdf5's h5dump
// and with h5py the way nir's reader does (node types, weight shapes),
// where they are installed.
func checkNIRWithHDF5Tools(t *testing.T, path string, net *snn.Network) {
	t.Helper()
	if h5dump, err := exec.LookPath("h5dump"); err == nil {
		if b, err := exec.Command(h5dump, path).CombinedOutput(); err != nil {
			t.Errorf("h5dump %s: %v\n%.500s", path, err, b)
		}
	}
	if exec.Command("/usr/bin/python3", "-c", "import h5py").Run() != nil {
		return
	}
	script := `
import h5py, sys
with h5py.File(sys.argv[1], "r") as f:
    nodes = f["node"]["nodes"]
    for name in sorted(nodes):
        n = nodes[name]
        w = n["weight"].shape if "weight" in n else ""
        print(name, n["type"][()].decode(), w)
    print("edges", f["node"]["edges"].shape, f["version"][()].decode())
`
	out, err := exec.Command("/usr/bin/python3", "-c", script, path).CombinedOutput()
	if err != nil {
		t.Fatalf("h5py: %v\n%s", err, out)
	}
	for _, l := range net.Layers {
		want := fmt.Sprintf("%s.affine Affine (%d, %d)", l.Name, l.Out, l.In)
		if l.Bias == nil {
			want = fmt.Sprintf("%s.affine Linear (%d, %d)", l.Name, l.Out, l.In)
		}
		if !strings.Contains(string(out), want) {
			t.Errorf("h5py does not list %q:\n%s", want, out)
		}
	}
}

// TestImportNIRFixturesCLI: a chain imports; a file without dt needs --dt
// (usage error); a recurrent CubaLIF graph is refused naming its nodes.
func TestImportNIRFixturesCLI(t *testing.T) {
	root := filesFixturesRoot(t)
	norse := filepath.Join(root, "nir", "lif_norse.nir")
	if _, err := os.Stat(norse); err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "lif.safetensors")
	if code, _, errOut := runCLI(t, "import", "nir", norse, "-o", out); code != 2 || !strings.Contains(errOut, "--dt") {
		t.Errorf("no --dt: exit %d, %q; want 2 naming --dt", code, errOut)
	}
	code, stdout, errOut := runCLI(t, "import", "nir", norse, "--dt", "1e-4", "--timesteps", "1000", "-o", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(stdout, "LIF") {
		t.Errorf("output does not list the LIF node:\n%s", stdout)
	}
	net, _, err := formats.LoadSNN(out)
	if err != nil {
		t.Fatal(err)
	}
	// τ = 2.5 ms at dt = 0.1 ms: leak exp(-0.04).
	if want := float32(math.Exp(-0.04)); net.Layers[0].Leak != want || net.Timesteps != 1000 {
		t.Errorf("leak %v (want %v), T %d", net.Layers[0].Leak, want, net.Timesteps)
	}
	braille := filepath.Join(root, "nir", "braille_subtract.nir")
	code, _, errOut = runCLI(t, "import", "nir", braille, "--dt", "1e-4", "-o", filepath.Join(dir, "b.safetensors"))
	if code != 1 || !strings.Contains(errOut, "CubaLIF") || !strings.Contains(errOut, "recurrent") {
		t.Errorf("braille: exit %d, %q; want 1 naming CubaLIF and the recurrent edge", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "b.safetensors")); err == nil {
		t.Error("a refused import left an output file")
	}
}

func requirePythonModule(t *testing.T, module, debian string) {
	t.Helper()
	if err := exec.Command("/usr/bin/python3", "-c", "import "+module).Run(); err != nil {
		t.Skipf("/usr/bin/python3 cannot import %s (Debian package %s)", module, debian)
	}
}

// exportAndRun exports path with --to target and runs the script on states.
func exportAndRun(t *testing.T, target, path string, states []float32, width int, args ...string) map[string]*formats.Array {
	t.Helper()
	dir := t.TempDir()
	py := filepath.Join(dir, "net.py")
	if code, _, errOut := runCLI(t, "export", "--to", target, path, "-o", py); code != 0 {
		t.Fatalf("export --to %s: exit %d: %s", target, code, errOut)
	}
	script, _ := os.ReadFile(py)
	if !strings.Contains(string(script), "Generated by spikebridge") || !strings.Contains(string(script), "Fidelity:") {
		t.Errorf("the script does not state its source and fidelity")
	}
	in := filepath.Join(dir, "states.npz")
	if err := formats.WriteNPZ(in, []*formats.Array{formats.NewFloat32Array("states", []int{len(states) / width, width}, states)}); err != nil {
		t.Fatal(err)
	}
	res := filepath.Join(dir, "result.npz")
	if b, err := exec.Command("/usr/bin/python3", append([]string{py, in, res}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", py, err, b)
	}
	arrays, err := formats.ReadNPZ(res)
	if err != nil {
		t.Fatal(err)
	}
	return arrays
}

// agreement compares a script's result with snn in float64 (the scripts'
// precision) and float32: decisions and rows whose spike counts all match.
func agreement(t *testing.T, net *snn.Network, res map[string]*formats.Array, states []float32) (dec64, counts64, dec32 int) {
	t.Helper()
	ref, err := export.Float64Copy(net)
	if err != nil {
		t.Fatal(err)
	}
	actions32, _ := runAll(t, net, states)
	st := ref.NewState(1)
	in := net.InputSize()
	for r := range actions32 {
		x := make([]float64, in)
		for i := range x {
			x[i] = float64(states[r*in+i])
		}
		a, err := ref.Run(nil, x, st, 0)
		if err != nil {
			t.Fatal(err)
		}
		got := int(res["actions"].Data[r])
		if got == a {
			dec64++
		}
		if got == actions32[r] {
			dec32++
		}
		same := true
		for l, layer := range net.Layers {
			c := res["spike_counts_"+strings.ReplaceAll(layer.Name, ".", "_")]
			if c == nil {
				continue
			}
			for o, k := range st.Counts(0, l) {
				same = same && int32(c.Data[r*layer.Out+o]) == k
			}
		}
		if same {
			counts64++
		}
	}
	return dec64, counts64, dec32
}

// TestExportBrian2CartPole: the converted CartPole policy (next-step) run
// by its Brian2 script decides as snn on 1000 recorded states.
func TestExportBrian2CartPole(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Brian2 for about a minute; skipped with -short")
	}
	requirePythonModule(t, "brian2", "python3-brian")
	path, net, states := cartPoleSNN(t, snn.NextStep, snn.ResetSubtract)
	res := exportAndRun(t, "brian2", path, states, net.InputSize())
	dec64, counts64, dec32 := agreement(t, net, res, states)
	rows := len(states) / net.InputSize()
	t.Logf("Brian2 vs snn next-step: decisions %d/%d (float64 snn), %d/%d (float32 snn); spike counts equal on %d/%d rows (float64)",
		dec64, rows, dec32, rows, counts64, rows)
	if dec64 != rows || counts64 != rows {
		t.Fatalf("Brian2 decisions %d/%d, counts %d/%d", dec64, rows, counts64, rows)
	}
}

// TestExportPyNNCartPole: the reset-to-zero conversion through PyNN's
// brian2 backend decides as snn on >= 99% of the states, and the figure
// for the reset-by-subtraction conversion is reported.
func TestExportPyNNCartPole(t *testing.T) {
	if os.Getenv("SPIKEBRIDGE_PYNN") != "1" {
		t.Skip("PyNN script tests take minutes: set SPIKEBRIDGE_PYNN=1 to run them (needs Debian python3-pynn)")
	}
	requirePythonModule(t, "pyNN.brian2", "python3-pynn")
	rows := 100
	if v, err := strconv.Atoi(os.Getenv("SPIKEBRIDGE_PYNN_ROWS")); err == nil && v > 0 {
		rows = v
	}
	for _, reset := range []snn.ResetMode{snn.ResetZero, snn.ResetSubtract} {
		path, net, states := cartPoleSNN(t, snn.NextStep, reset)
		n := min(rows, len(states)/net.InputSize())
		states = states[:n*net.InputSize()]
		res := exportAndRun(t, "pynn", path, states, net.InputSize(), "--simulator", "brian2")
		dec64, counts64, dec32 := agreement(t, net, res, states)
		t.Logf("PyNN/brian2 vs snn next-step, reset %s: decisions %d/%d (float64 snn), %d/%d (float32); counts equal on %d rows",
			reset, dec64, n, dec32, n, counts64)
		if reset == snn.ResetZero && dec64*100 < 99*n {
			t.Errorf("reset-to-zero: %d/%d decisions, want >= 99%%", dec64, n)
		}
	}
}

// TestExportRecurrentNIR: a recurrent (e-prop) model file exports to NIR
// with its recurrent edge, graded; scripts are refused for it.
func TestExportRecurrentNIR(t *testing.T) {
	net := &snn.Recurrent{Inputs: 2, Neurons: 3, Outputs: 2, Leak: math.Exp(-1.0 / 20), Threshold: 0.6,
		InputWeights: []float64{1, 2, 3, 4, 5, 6}, RecurrentWeights: []float64{0, 1, -1, 2, 0, 1, 1, 1, 0},
		OutputWeights: []float64{1, 0, 1, 0, 1, 0}, Adaptation: make([]float64, 3), AdaptationDecay: 0.99,
		ReadoutLeak: math.Exp(-1.0 / 20), Output: snn.OutputIdentity}
	dir := t.TempDir()
	path := filepath.Join(dir, "eprop.safetensors")
	if err := formats.SaveRecurrent(path, net, nil, formats.RecurrentMeta{}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "eprop.nir")
	code, stdout, errOut := runCLI(t, "export", "--to", "nir", path, "-o", out, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res workflow.ExportResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || res.Fidelity != "approximate" {
		t.Errorf("fidelity %q (%v): %s", res.Fidelity, err, stdout)
	}
	g, err := nir.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	recurrent := false
	for _, e := range g.Edges {
		recurrent = recurrent || e == [2]string{"w_rec", "lif"}
	}
	if !recurrent || g.Nodes["lif"].Type != "LIF" || g.Nodes["readout"].Type != "LI" {
		t.Errorf("graph %+v", g.Edges)
	}
	if code, _, _ := runCLI(t, "export", "--to", "brian2", path, "-o", filepath.Join(dir, "x.py")); code == 0 {
		t.Error("a recurrent network exported as a Brian2 script")
	}
}
