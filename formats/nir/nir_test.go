package nir

import (
	"bytes"
	"encoding/csv"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"

	"github.com/spikebridge/spikebridge/internal/testfixtures"
	"github.com/spikebridge/spikebridge/snn"
)

// exactDT is the step of lif_exact.csv (the NIR paper's LIF test, see
// ../shared/fixtures/README.md).
const exactDT = 1e-4

// TestImportFixtures: chains of mapped nodes import; graphs with recurrent
// edges or unmapped node types are refused with every such node graded
// unsupported.
func TestImportFixtures(t *testing.T) {
	files, _ := filepath.Glob(testfixtures.Dir(t, "nir", "*.nir"))
	if len(files) == 0 {
		t.Skip("no NIR fixtures")
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			g, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			_, _, chainErr := g.chain()
			net, grades, err := ToSNN(g, ImportOptions{DT: exactDT})
			if len(grades) != len(g.Nodes) {
				t.Fatalf("%d grades for %d nodes", len(grades), len(g.Nodes))
			}
			if chainErr != nil {
				if !errors.Is(err, ErrUnsupported) {
					t.Fatalf("err = %v, want ErrUnsupported", err)
				}
				if Worst(grades) != Unsupported {
					t.Fatalf("refused, but no node graded unsupported: %+v", grades)
				}
				t.Logf("refused: %v", err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if net.InputSize() <= 0 || net.OutputSize() <= 0 {
				t.Fatalf("network sizes %d -> %d", net.InputSize(), net.OutputSize())
			}
		})
	}
}

// TestLIFExactTrace drives the imported Norse LIF with lif_exact.csv's input
// spikes (one step per row) and compares its output spikes and voltage with
// the NIR paper's exact event-based simulation.
func TestLIFExactTrace(t *testing.T) {
	g, err := ReadFile(testfixtures.Dir(t, "nir", "lif_norse.nir"))
	if err != nil {
		t.Skip(err)
	}
	rows := readCSV(t, testfixtures.Dir(t, "nir", "lif_exact.csv"))
	net, _, err := ToSNN(g, ImportOptions{DT: exactDT})
	if err != nil {
		t.Fatal(err)
	}
	threshold := float64(net.Layers[0].Threshold)
	s := net.NewState(1)
	s.CarryMembrane = true
	var maxDiff, maxDiffBeforeSpike float64
	var ours, theirs []int
	for i, row := range rows {
		if _, err := net.Run(nil, []float32{float32(row[0])}, s, 1); err != nil {
			t.Fatal(err)
		}
		spiked := s.Counts(0, 0)[0] > 0
		if spiked {
			ours = append(ours, i)
		}
		if row[2] != 0 {
			theirs = append(theirs, i)
		}
		d := math.Abs(float64(s.Membrane(0, 0)[0]) - row[1])
		maxDiff = max(maxDiff, d)
		if len(theirs) == 0 && len(ours) == 0 {
			maxDiffBeforeSpike = max(maxDiffBeforeSpike, d)
		}
	}
	t.Logf("output spikes at rows %v (exact: %v); max |v - v_exact| = %.3g (%.2f%% of threshold) over all rows, %.3g before the first spike",
		ours, theirs, maxDiff, 100*maxDiff/threshold, maxDiffBeforeSpike)
	if !reflect.DeepEqual(ours, theirs) {
		t.Errorf("spikes at %v, exact simulation at %v", ours, theirs)
	}
	// Between resets the zero-order-hold step is the exact solution (float32).
	if maxDiffBeforeSpike > 1e-6*threshold*100 {
		t.Errorf("voltage differs by %.3g before any spike; zero-order hold is exact there", maxDiffBeforeSpike)
	}
	// The exact simulation resets at the crossing instant inside a step and
	// charges again for the rest of it; a reset to 0 at the step loses that
	// residue (6.2% of the threshold here) until the next input spike.
	if maxDiff > 0.065*threshold {
		t.Errorf("voltage differs by %.3g, more than 6.5%% of the threshold %.3g", maxDiff, threshold)
	}
}

// TestLIFExactTraceSubsteps simulates the same trace with dt = 1 µs, 100
// steps per row of lif_exact.csv (input held over the row): a reset at a
// step boundary then loses at most one step (1/100 row) of charge.
func TestLIFExactTraceSubsteps(t *testing.T) {
	g, err := ReadFile(testfixtures.Dir(t, "nir", "lif_norse.nir"))
	if err != nil {
		t.Skip(err)
	}
	rows := readCSV(t, testfixtures.Dir(t, "nir", "lif_exact.csv"))
	const substeps = 100
	net, _, err := ToSNN(g, ImportOptions{DT: exactDT / substeps})
	if err != nil {
		t.Fatal(err)
	}
	threshold := float64(net.Layers[0].Threshold)
	s := net.NewState(1)
	s.CarryMembrane = true
	var maxDiff float64
	var ours, theirs []int
	for i, row := range rows {
		if _, err := net.Run(nil, []float32{float32(row[0])}, s, substeps); err != nil {
			t.Fatal(err)
		}
		if s.Counts(0, 0)[0] > 0 {
			ours = append(ours, i)
		}
		if row[2] != 0 {
			theirs = append(theirs, i)
		}
		maxDiff = max(maxDiff, math.Abs(float64(s.Membrane(0, 0)[0])-row[1]))
	}
	t.Logf("dt = %g s (%d steps per row): output spikes at rows %v (exact: %v); max |v - v_exact| = %.3g (%.2f%% of threshold)",
		exactDT/substeps, substeps, ours, theirs, maxDiff, 100*maxDiff/threshold)
	if !reflect.DeepEqual(ours, theirs) {
		t.Errorf("spikes at %v, exact simulation at %v", ours, theirs)
	}
	if maxDiff > 0.05*threshold {
		t.Errorf("voltage differs by %.3g, more than 5%% of the threshold %.3g", maxDiff, threshold)
	}
}

func readCSV(t *testing.T, path string) [][3]float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	out := make([][3]float64, len(recs))
	for i, r := range recs {
		for j := 0; j < 3; j++ {
			if out[i][j], err = strconv.ParseFloat(r[j], 64); err != nil {
				t.Fatalf("row %d: %v", i, err)
			}
		}
	}
	return out
}

func randomNetwork(t *testing.T, r *rand.Rand, variant int) *snn.Network {
	sizes := []int{3 + r.IntN(5), 4 + r.IntN(20), 3 + r.IntN(10), 2 + r.IntN(3)}
	spec := snn.Network{Timesteps: 16 + r.IntN(32), OutputScale: 1 + r.Float32(), Input: snn.InputOf[float32]{Encoding: snn.Analog, Gain: 1}}
	if variant&1 != 0 {
		spec.Propagation = snn.NextStep
	}
	if variant&2 != 0 {
		spec.Readout = snn.Spikes
	}
	if variant&4 != 0 {
		spec.Input.Gain = 0.5 + r.Float32()
	}
	if variant&8 != 0 {
		spec.Input = snn.InputOf[float32]{Encoding: snn.Rate, Gain: 1.5, Threshold: 0.75, InitialMembrane: 0.25}
	}
	for i := 0; i+1 < len(sizes); i++ {
		in, out := sizes[i], sizes[i+1]
		l := snn.Layer{Name: "fc" + strconv.Itoa(i), In: in, Out: out, Threshold: 0.5 + r.Float32(), Leak: 1,
			Reset: snn.ResetSubtract, InitialMembrane: 0.5}
		l.Weights = make([]float32, in*out)
		for k := range l.Weights {
			l.Weights[k] = float32(r.NormFloat64()) * 0.7
		}
		if r.IntN(3) > 0 {
			l.Bias = make([]float32, out)
			for k := range l.Bias {
				l.Bias[k] = float32(r.NormFloat64()) * 0.1
			}
		}
		switch r.IntN(4) {
		case 0:
			l.Leak = 0.5 + 0.5*r.Float32()
		case 1:
			l.Reset = snn.ResetZero
			l.InitialMembrane = 0
		case 2:
			l.Thresholds = make([]float32, out)
			l.InitialMembranes = make([]float32, out)
			for k := range l.Thresholds {
				l.Thresholds[k] = 0.5 + r.Float32()
				l.InitialMembranes[k] = r.Float32() - 0.5
			}
		}
		if variant&1 != 0 && r.IntN(2) == 0 {
			l.StrictThreshold = true
		}
		if i+2 == len(sizes) && spec.Readout != snn.Spikes {
			// The membrane readout: no neuron parameters, as model files load it.
			l.Threshold, l.Leak, l.Reset, l.InitialMembrane, l.Thresholds, l.InitialMembranes, l.StrictThreshold = 1, 1, "", 0, nil, nil, false
		}
		spec.Layers = append(spec.Layers, l)
	}
	net, err := snn.New(spec)
	if err != nil {
		t.Fatal(err)
	}
	return net
}

// TestRoundTripExact: our network -> NIR file -> our network gives every
// parameter back bit for bit, and the same outputs and spike counts.
func TestRoundTripExact(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 1))
	for variant := 0; variant < 16; variant++ {
		for rep := 0; rep < 4; rep++ {
			net := randomNetwork(t, r, variant)
			dt := []float64{1e-3, 1e-4, 0.5}[rep%3]
			g, grades, err := FromSNN(net, ExportOptions{DT: dt, Source: "test", Tool: "spikebridge test"})
			if err != nil {
				t.Fatal(err)
			}
			if len(grades) != len(g.Nodes) {
				t.Fatalf("%d grades for %d nodes", len(grades), len(g.Nodes))
			}
			var buf bytes.Buffer
			if err := g.Write(&buf); err != nil {
				t.Fatal(err)
			}
			back, err := Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
			if err != nil {
				t.Fatal(err)
			}
			got, _, err := ToSNN(back, ImportOptions{})
			if err != nil {
				t.Fatalf("variant %d: %v", variant, err)
			}
			if !reflect.DeepEqual(got.Layers, net.Layers) || got.Input != net.Input || got.Timesteps != net.Timesteps ||
				got.Propagation != net.Propagation || got.Readout != net.Readout || got.OutputScale != net.OutputScale {
				for i := range net.Layers {
					if !reflect.DeepEqual(got.Layers[i], net.Layers[i]) {
						t.Errorf("layer %d:\n got %+v\nwant %+v", i, got.Layers[i], net.Layers[i])
					}
				}
				t.Fatalf("variant %d dt %v: network differs after the round trip", variant, dt)
			}
			x := make([]float32, net.InputSize())
			for k := range x {
				x[k] = float32(r.NormFloat64())
			}
			a, b := net.NewState(1), got.NewState(1)
			outA, outB := make([]float32, net.OutputSize()), make([]float32, net.OutputSize())
			da, _ := net.Run(outA, x, a, 0)
			db, _ := got.Run(outB, x, b, 0)
			if da != db || !reflect.DeepEqual(outA, outB) || !reflect.DeepEqual(a.Counters, b.Counters) {
				t.Fatalf("variant %d: runs differ", variant)
			}
		}
	}
}

// TestExportGrades: the baseline conversion (IF, subtract, v(0) = θ/2) is
// approximate in NIR; reset-to-zero, v(0) = 0 LIF layers are faithful.
func TestExportGrades(t *testing.T) {
	l := snn.Layer{Name: "a", In: 2, Out: 2, Weights: []float32{1, 0, 0, 1}, Threshold: 1, Leak: 0.9, Reset: snn.ResetZero}
	out := snn.Layer{Name: "b", In: 2, Out: 1, Weights: []float32{1, 1}, Threshold: 1, Leak: 1}
	net, err := snn.New(snn.Network{Layers: []snn.Layer{l, out}, OutputScale: 1, Input: snn.InputOf[float32]{Gain: 1}})
	if err != nil {
		t.Fatal(err)
	}
	g, grades, err := FromSNN(net, ExportOptions{DT: 1e-3})
	if err != nil {
		t.Fatal(err)
	}
	if Worst(grades) != Faithful || g.Metadata["fidelity"] != "faithful" {
		t.Fatalf("grades %+v", grades)
	}
	l.Reset, l.InitialMembrane = snn.ResetSubtract, 0.5
	net, _ = snn.New(snn.Network{Layers: []snn.Layer{l, out}, OutputScale: 1, Input: snn.InputOf[float32]{Gain: 1}})
	_, grades, _ = FromSNN(net, ExportOptions{DT: 1e-3})
	if Worst(grades) != Approximate || grades[2].Grade != Approximate || grades[2].Note == "" {
		t.Fatalf("grades %+v", grades)
	}
}

// A graph without dt metadata needs ImportOptions.DT: the refusal is
// ErrNoTimeStep (the CLI names --dt for it), and the given dt imports it.
func TestImportNeedsTimeStep(t *testing.T) {
	g, err := ReadFile(testfixtures.Dir(t, "nir", "lif_norse.nir"))
	if err != nil {
		t.Skip(err)
	}
	delete(g.Metadata, "dt")
	if _, _, err := ToSNN(g, ImportOptions{}); !errors.Is(err, ErrNoTimeStep) {
		t.Fatalf("no dt: %v, want ErrNoTimeStep", err)
	}
	if _, _, err := ToSNN(g, ImportOptions{DT: exactDT}); err != nil {
		t.Fatalf("dt %g given: %v", exactDT, err)
	}
}
