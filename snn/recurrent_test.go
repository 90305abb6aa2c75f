package snn

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// tinyRecurrent is two neurons (0 LIF, 1 ALIF), one input, one readout.
func tinyRecurrent() *Recurrent {
	return &Recurrent{
		Inputs: 1, Neurons: 2, Outputs: 1,
		InputWeights:     []float64{0.5, 0.5},
		RecurrentWeights: []float64{0, 0.25, 0.125, 0},
		OutputWeights:    []float64{1, 2},
		Leak:             0.5, Threshold: 1, RefractorySteps: 3,
		AdaptationDecay: 0.75, Adaptation: []float64{0, 0.5},
		ReadoutLeak: 0.5, Output: OutputIdentity,
	}
}

// TestRecurrentClosedForm follows the two neurons by hand for constant input
// 1: v = 0.5, 0.75, 1.0 (spike, both) ... and checks every step's membrane,
// threshold, spikes, refractoriness and readout.
func TestRecurrentClosedForm(t *testing.T) {
	n := tinyRecurrent()
	s, err := NewRecurrentState(n)
	if err != nil {
		t.Fatal(err)
	}
	x := []float64{1}
	type want struct {
		v0, v1, a1, z0, z1, y float64
		blocked0              bool
	}
	// Hand computation (Leak 0.5, drive 0.5 per step):
	// t0: v=.5,.5                      no spike; y=0
	// t1: v=.75,.75                    no spike
	// t2: v=.875,.875                  no spike
	// t3: v=.9375,.9375                no spike
	// t4: v=.96875,.96875               no spike (the fixed point is 1, never reached)
	steps := []want{
		{0.5, 0.5, 0, 0, 0, 0, false},
		{0.75, 0.75, 0, 0, 0, 0, false},
		{0.875, 0.875, 0, 0, 0, 0, false},
		{0.9375, 0.9375, 0, 0, 0, 0, false},
	}
	for i, w := range steps {
		n.Step(s, x)
		if s.V[0] != w.v0 || s.V[1] != w.v1 || s.Z[0] != w.z0 || s.Z[1] != w.z1 || s.Y[0] != w.y {
			t.Fatalf("step %d: v %v z %v y %v, want v (%v, %v) z (%v, %v) y %v", i, s.V, s.Z, s.Y, w.v0, w.v1, w.z0, w.z1, w.y)
		}
	}
	// Input 2 now: drive 1 per step.
	x[0] = 2
	n.Step(s, x) // v = 0.46875 + 1 = 1.46875 >= 1: both spike
	if s.Z[0] != 1 || s.Z[1] != 1 || len(s.Fired) != 2 {
		t.Fatalf("step 4: z %v, want both neurons to spike", s.Z)
	}
	if want := 0.5 * (1 + 2); s.Y[0] != want {
		t.Fatalf("step 4: readout %v, want %v", s.Y[0], want)
	}
	n.Step(s, x)
	// v0 = 0.5*1.46875 + 1 + 0.25 (from neuron 1) − 1 (own reset) = 0.984375, refractory anyway.
	if s.V[0] != 0.984375 || !s.Blocked[0] || s.Z[0] != 0 {
		t.Fatalf("step 5: v0 %v blocked %v z0 %v, want 0.984375, refractory, no spike", s.V[0], s.Blocked[0], s.Z[0])
	}
	// Neuron 1: a = 0.75*0 + 1 = 1, threshold 1 + 0.5 = 1.5.
	if s.ThresholdNow[1] != 1.5 || s.ThresholdNow[0] != 1 {
		t.Fatalf("step 5: thresholds %v, want (1, 1.5)", s.ThresholdNow)
	}
	// Refractory 3 steps including the spike step: blocked at steps 5 and 6, free at 7.
	n.Step(s, x)
	if !s.Blocked[0] {
		t.Fatal("step 6: neuron 0 should still be refractory")
	}
	n.Step(s, x)
	if s.Blocked[0] {
		t.Fatal("step 7: neuron 0 should be free")
	}
	if s.Counters.Steps != 8 || s.Counters.Spikes < 2 || s.Counters.InputSpikes != 8 {
		t.Fatalf("counters %+v", s.Counters)
	}
	// SynOps: 8 nonzero inputs × 2 neurons + every spike × (1 recurrent + 1 readout).
	if want := 8*2 + s.Counters.Spikes*2; s.Counters.SynOps != want {
		t.Fatalf("SynOps %d, want %d", s.Counters.SynOps, want)
	}
}

// denseStep is the reference's step written with dense matrix-vector products
// (eprop_nest_ref.py), used to check the event-driven Step.
func denseStep(n *Recurrent, v, a, z, y []float64, r []int, x []float64) {
	N := n.Neurons
	zin := make([]float64, N)
	for j := 0; j < N; j++ {
		for i, xi := range x {
			zin[j] += n.InputWeights[j*n.Inputs+i] * xi
		}
		rec := 0.0
		for i := 0; i < N; i++ {
			rec += n.RecurrentWeights[j*N+i] * z[i]
		}
		zin[j] += rec
	}
	newZ := make([]float64, N)
	for j := 0; j < N; j++ {
		v[j] = n.Leak*v[j] + zin[j] - n.Threshold*z[j]
		a[j] = n.AdaptationDecay*a[j] + z[j]
		A := n.Threshold + n.Adaptation[j]*a[j]
		if v[j] >= A && r[j] == 0 {
			newZ[j] = 1
			r[j] = n.RefractorySteps
		}
		if r[j] > 0 {
			r[j]--
		}
	}
	copy(z, newZ)
	for k := range y {
		sum := 0.0
		for j := 0; j < N; j++ {
			sum += n.OutputWeights[k*N+j] * z[j]
		}
		y[k] = n.ReadoutLeak*y[k] + (1-n.ReadoutLeak)*sum
	}
}

func randomRecurrent(rng *rand.Rand, in, neurons, out int) *Recurrent {
	n := &Recurrent{
		Inputs: in, Neurons: neurons, Outputs: out,
		InputWeights:     make([]float64, neurons*in),
		RecurrentWeights: make([]float64, neurons*neurons),
		OutputWeights:    make([]float64, out*neurons),
		Adaptation:       make([]float64, neurons),
		Leak:             math.Exp(-1.0 / 20), Threshold: 0.6, RefractorySteps: 5,
		AdaptationDecay: math.Exp(-1.0 / 200), ReadoutLeak: math.Exp(-1.0 / 20), Output: OutputSoftmax,
	}
	// Weights on a 1/64 grid keep the sums exact, so any summation order agrees.
	grid := func() float64 { return math.Round(rng.NormFloat64()*32) / 64 }
	for i := range n.InputWeights {
		n.InputWeights[i] = grid()
	}
	for j := 0; j < neurons; j++ {
		for i := 0; i < neurons; i++ {
			if i != j {
				n.RecurrentWeights[j*neurons+i] = grid() / 2
			}
		}
		if j%2 == 1 {
			n.Adaptation[j] = 0.25
		}
	}
	for i := range n.OutputWeights {
		n.OutputWeights[i] = grid()
	}
	return n
}

// TestRecurrentMatchesDenseStep compares the event-driven Step with the
// dense matrix form for a random network and input over many steps.
func TestRecurrentMatchesDenseStep(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	n := randomRecurrent(rng, 12, 30, 3)
	s, err := NewRecurrentState(n)
	if err != nil {
		t.Fatal(err)
	}
	N := n.Neurons
	v, a, z, y, r := make([]float64, N), make([]float64, N), make([]float64, N), make([]float64, 3), make([]int, N)
	x := make([]float64, n.Inputs)
	spikes := 0
	for step := 0; step < 2000; step++ {
		for i := range x {
			x[i] = 0
			if rng.Float64() < 0.1 {
				x[i] = 1
			}
		}
		n.Step(s, x)
		denseStep(n, v, a, z, y, r, x)
		for j := 0; j < N; j++ {
			if s.V[j] != v[j] || s.Z[j] != z[j] {
				t.Fatalf("step %d neuron %d: v %v z %v, dense v %v z %v", step, j, s.V[j], s.Z[j], v[j], z[j])
			}
			spikes += int(z[j])
		}
		for k := range y {
			if math.Abs(s.Y[k]-y[k]) > 1e-12 {
				t.Fatalf("step %d readout %d: %v, dense %v", step, k, s.Y[k], y[k])
			}
		}
	}
	if spikes == 0 || int64(spikes) != s.Counters.Spikes {
		t.Fatalf("%d spikes (counter %d): the comparison needs spikes", spikes, s.Counters.Spikes)
	}
}

func TestRecurrentStepAllocatesNothing(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := randomRecurrent(rng, 40, 100, 2)
	s, err := NewRecurrentState(n)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float64, n.Inputs)
	for i := range x {
		x[i] = float64(i % 2)
	}
	probs := make([]float64, 2)
	if allocs := testing.AllocsPerRun(1000, func() {
		n.Step(s, x)
		n.OutputInto(probs, s)
	}); allocs != 0 {
		t.Fatalf("Step allocates %v times per step", allocs)
	}
	if s.Counters.Spikes == 0 {
		t.Fatal("no spikes: the allocation check did not exercise propagation")
	}
}

func TestRecurrentValidate(t *testing.T) {
	for _, c := range []struct {
		name string
		bad  func(*Recurrent)
		want string
	}{
		{"zero neurons", func(n *Recurrent) { n.Neurons = 0 }, "0 neurons"},
		{"zero inputs", func(n *Recurrent) { n.Inputs = 0 }, "0 inputs"},
		{"input shape", func(n *Recurrent) { n.InputWeights = n.InputWeights[:1] }, "input weights: 1 values"},
		{"NaN weight", func(n *Recurrent) { n.OutputWeights[1] = math.NaN() }, "output weights: element (0, 1) is NaN"},
		{"self-connection", func(n *Recurrent) { n.RecurrentWeights[3] = 0.1 }, "diagonal element (1, 1)"},
		{"threshold", func(n *Recurrent) { n.Threshold = 0 }, "threshold is 0"},
		{"leak", func(n *Recurrent) { n.Leak = 1.5 }, "leak is 1.5"},
		{"output", func(n *Recurrent) { n.Output = "sigmoid" }, `output "sigmoid"`},
	} {
		n := tinyRecurrent()
		c.bad(n)
		err := n.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestSoftmax(t *testing.T) {
	dst := make([]float64, 2)
	Softmax(dst, []float64{1000, 1000 + math.Log(3)})
	if math.Abs(dst[0]-0.25) > 1e-13 || math.Abs(dst[1]-0.75) > 1e-13 {
		t.Fatalf("softmax %v, want (0.25, 0.75)", dst)
	}
}

func BenchmarkRecurrentStep(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := randomRecurrent(rng, 40, 100, 2)
	s, _ := NewRecurrentState(n)
	x := make([]float64, n.Inputs)
	x[3], x[17] = 1, 1
	b.ReportAllocs()
	for b.Loop() {
		n.Step(s, x)
	}
}
