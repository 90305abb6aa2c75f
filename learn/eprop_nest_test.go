package learn_test

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/internal/testfixtures"
	"github.com/spikebridge/spikebridge/learn"
	"github.com/spikebridge/spikebridge/snn"
)

// nestCase is NEST's e-prop evidence-accumulation test case as the fixture
// holds it (../shared/fixtures/eprop, made by eprop_nest_ref.py).
type nestCase struct {
	arrays                  map[string]*formats.Array
	iterations, batch, step int
	inputs, neurons, outs   int
}

// nestCasePaths lists the fixture's NEST test cases (evidence_accumulation_b*.npz).
func nestCasePaths(t testing.TB) []string {
	t.Helper()
	paths, err := filepath.Glob(testfixtures.Dir(t, "eprop", "evidence_accumulation_b*.npz"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no eprop/evidence_accumulation_b*.npz fixture: %v", err)
	}
	return paths
}

func loadNESTCase(t testing.TB, path string) *nestCase {
	t.Helper()
	arrays, err := formats.ReadNPZ(path)
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	for _, name := range []string{"w_in", "w_rec", "w_out", "b_feedback", "x", "target", "loss", "nest_loss",
		"spike_count_it0_b0", "grad_in_it0", "grad_rec_it0", "grad_out_it0", "w_in_final", "w_rec_final", "w_out_final"} {
		if arrays[name] == nil {
			t.Fatalf("%s: no array %q", path, name)
		}
	}
	x := arrays["x"]
	if len(x.Shape) != 4 {
		t.Fatalf("%s: x has shape %v, want (iteration, batch, step, input)", path, x.Shape)
	}
	c := &nestCase{arrays: arrays, iterations: x.Shape[0], batch: x.Shape[1], step: x.Shape[2], inputs: x.Shape[3]}
	c.neurons = arrays["w_rec"].Shape[0]
	c.outs = arrays["w_out"].Shape[0]
	return c
}

// network builds NEST's test network from the fixture's initial weights: the
// first half of the neurons LIF, the second half ALIF (as eprop_nest_ref.py).
func (c *nestCase) network() *snn.Recurrent {
	n := &snn.Recurrent{
		Inputs: c.inputs, Neurons: c.neurons, Outputs: c.outs,
		InputWeights:     append([]float64(nil), c.arrays["w_in"].Data...),
		RecurrentWeights: append([]float64(nil), c.arrays["w_rec"].Data...),
		OutputWeights:    append([]float64(nil), c.arrays["w_out"].Data...),
		Leak:             math.Exp(-1.0 / 20), Threshold: 0.6, RefractorySteps: 5,
		AdaptationDecay: math.Exp(-1.0 / 2000), Adaptation: make([]float64, c.neurons),
		ReadoutLeak: math.Exp(-1.0 / 20), Output: snn.OutputSoftmax,
	}
	beta := 1.7 * (1 - math.Exp(-1.0/2000)) / (1 - math.Exp(-1.0/20))
	for j := c.neurons / 2; j < c.neurons; j++ {
		n.Adaptation[j] = beta
	}
	return n
}

func (c *nestCase) batchOf(it int) *learn.Batch {
	x, target := c.arrays["x"].Data, c.arrays["target"].Data
	per := c.step * c.inputs
	b := &learn.Batch{Steps: c.step}
	for s := 0; s < c.batch; s++ {
		off := (it*c.batch + s) * per
		b.Sequences = append(b.Sequences, learn.Sequence{Inputs: x[off : off+per], Class: int(target[it*c.batch+s])})
	}
	return b
}

func relErr(got, want float64) float64 {
	return math.Abs(got-want) / math.Max(math.Abs(want), 1e-300)
}

// maxDiff is the largest |got − want| and its index.
func maxDiff(got, want []float64) (float64, int) {
	d, at := 0.0, -1
	for i := range want {
		if e := math.Abs(got[i] - want[i]); e > d || at < 0 {
			d, at = e, i
		}
	}
	return d, at
}

// TestEpropMatchesNEST trains NEST's evidence-accumulation test case and
// checks the spike counts and gradients of iteration 0, the loss of every
// iteration against NEST's published numbers at rtol 1e-8, and the final
// weights at 1e-9.
func TestEpropMatchesNEST(t *testing.T) {
	for _, path := range nestCasePaths(t) {
		for _, workers := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/workers=%d", filepath.Base(path), workers), func(t *testing.T) {
				testNESTCase(t, loadNESTCase(t, path), workers)
			})
		}
	}
}

func testNESTCase(t *testing.T, c *nestCase, workers int) {
	{
		{
			net := c.network()
			cfg := learn.NESTEpropConfig()
			cfg.Workers = workers
			e, err := learn.NewEprop(net, append([]float64(nil), c.arrays["b_feedback"].Data...), cfg)
			if err != nil {
				t.Fatal(err)
			}
			for it := 0; it < c.iterations; it++ {
				b := c.batchOf(it)
				if it == 0 {
					checkIteration0(t, c, net, b)
				}
				r, err := e.Iterate(b)
				if err != nil {
					t.Fatal(err)
				}
				if it == 0 {
					for _, g := range []struct {
						name      string
						got, want []float64
						tol       float64
					}{
						{"grad_in_it0", e.GradInput, c.arrays["grad_in_it0"].Data, 1e-12},
						{"grad_rec_it0", e.GradRecurrent, c.arrays["grad_rec_it0"].Data, 1e-12},
						{"grad_out_it0", e.GradOutput, c.arrays["grad_out_it0"].Data, 1e-12},
					} {
						d, at := maxDiff(g.got, g.want)
						t.Logf("%s: max |diff| %.3g", g.name, d)
						if d > g.tol {
							t.Errorf("%s: max |diff| %.3g at %d (got %.15g, want %.15g)", g.name, d, at, g.got[at], g.want[at])
						}
					}
				}
				want, nest := c.arrays["loss"].Data[it], c.arrays["nest_loss"].Data[it]
				if e := relErr(r.Loss, want); e > 1e-10 {
					t.Errorf("iteration %d: loss %.15g, reference script %.15g (rel %.3g)", it, r.Loss, want, e)
				}
				if e := relErr(r.Loss, nest); e > 1e-8 {
					t.Errorf("iteration %d: loss %.15g, NEST %.15g (rel %.3g > 1e-8)", it, r.Loss, nest, e)
				}
				t.Logf("iteration %d: loss %.12f NEST %.12f rel %.2g (reference script: rel %.2g)", it, r.Loss, nest, relErr(r.Loss, nest), relErr(r.Loss, want))
			}
			for _, w := range []struct {
				name      string
				got, want []float64
			}{
				{"w_in_final", net.InputWeights, c.arrays["w_in_final"].Data},
				{"w_rec_final", net.RecurrentWeights, c.arrays["w_rec_final"].Data},
				{"w_out_final", net.OutputWeights, c.arrays["w_out_final"].Data},
			} {
				d, at := maxDiff(w.got, w.want)
				if d > 1e-9 {
					t.Errorf("%s: max |diff| %.3g at %d (got %.15g, want %.15g)", w.name, d, at, w.got[at], w.want[at])
				}
				t.Logf("%s: max |diff| %.3g", w.name, d)
			}
		}
	}
}

// checkIteration0 simulates the first sequence alone and compares its spike
// counts per neuron with the fixture's.
func checkIteration0(t *testing.T, c *nestCase, net *snn.Recurrent, b *learn.Batch) {
	t.Helper()
	st, err := snn.NewRecurrentState(net)
	if err != nil {
		t.Fatal(err)
	}
	counts := make([]float64, net.Neurons)
	seq := b.Sequences[0]
	for s := 0; s < b.Steps; s++ {
		net.Step(st, seq.Inputs[s*net.Inputs:(s+1)*net.Inputs])
		for _, j := range st.Fired {
			counts[j]++
		}
	}
	want := c.arrays["spike_count_it0_b0"].Data
	total := 0.0
	for j := range want {
		total += want[j]
		if counts[j] != want[j] {
			t.Errorf("neuron %d: %v spikes in iteration 0, want %v", j, counts[j], want[j])
		}
	}
	if total == 0 {
		t.Fatal("fixture has no spikes in iteration 0: the comparison would be empty")
	}
}
