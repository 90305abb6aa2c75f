package snn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"
)

// TestLockstepLayouts pins the field offsets lockstep_amd64.s reads.
func TestLockstepLayouts(t *testing.T) {
	var a lockArgs
	var e lockEncArgs
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"lockArgs.v", unsafe.Offsetof(a.v), 0}, {"lockArgs.drive", unsafe.Offsetof(a.drive), 8},
		{"lockArgs.th", unsafe.Offsetof(a.th), 16}, {"lockArgs.wNeg", unsafe.Offsetof(a.wNeg), 24},
		{"lockArgs.wPos", unsafe.Offsetof(a.wPos), 32}, {"lockArgs.pm", unsafe.Offsetof(a.pm), 40},
		{"lockArgs.nm", unsafe.Offsetof(a.nm), 48}, {"lockArgs.fire", unsafe.Offsetof(a.fire), 56},
		{"lockArgs.count", unsafe.Offsetof(a.count), 64}, {"lockArgs.in", unsafe.Offsetof(a.in), 72},
		{"lockArgs.out", unsafe.Offsetof(a.out), 80}, {"lockArgs.lanes", unsafe.Offsetof(a.lanes), 88},
		{"lockArgs.leak", unsafe.Offsetof(a.leak), 96}, {"lockArgs.one", unsafe.Offsetof(a.one), 104},
		{"lockArgs.flags", unsafe.Offsetof(a.flags), 112}, {"lockArgs.list", unsafe.Offsetof(a.list), 120},
		{"lockEncArgs.enc", unsafe.Offsetof(e.enc), 0}, {"lockEncArgs.cur", unsafe.Offsetof(e.cur), 8},
		{"lockEncArgs.pm", unsafe.Offsetof(e.pm), 16}, {"lockEncArgs.nm", unsafe.Offsetof(e.nm), 24},
		{"lockEncArgs.count", unsafe.Offsetof(e.count), 32}, {"lockEncArgs.in", unsafe.Offsetof(e.in), 40},
		{"lockEncArgs.lanes", unsafe.Offsetof(e.lanes), 48}, {"lockEncArgs.th", unsafe.Offsetof(e.th), 56},
		{"lockEncArgs.negTh", unsafe.Offsetof(e.negTh), 64}, {"lockEncArgs.one", unsafe.Offsetof(e.one), 72},
		{"lockEncArgs.flags", unsafe.Offsetof(e.flags), 80},
	} {
		if c.got != c.want {
			t.Errorf("%s at offset %d, lockstep_amd64.s reads it at %d", c.name, c.got, c.want)
		}
	}
	if lockLanes%32 != 0 {
		t.Errorf("lockLanes = %d, want a multiple of the float32 kernel's 32-lane block", lockLanes)
	}
}

// lockCase is one combination of modes for TestLockstepBitIdentical.
type lockCase struct {
	leak      float64 // 1: IF
	reset     ResetMode
	enc       Encoding
	prop      Propagation
	readout   Readout
	carry     bool
	negStart  bool // Rate encoder starting at or below -threshold
	positive  bool // all inputs >= 0 (no negative input spikes unless negStart)
	perNeuron bool
	// dyadic rounds weights, biases and inputs to multiples of 1/8, so that
	// membranes hit thresholds exactly (>= against > matters).
	dyadic bool
}

func (c lockCase) String() string {
	return fmt.Sprintf("leak=%g/%s/%s/%s/%s/carry=%v/negStart=%v/positive=%v/perNeuron=%v/dyadic=%v",
		c.leak, c.reset, c.enc, c.prop, c.readout, c.carry, c.negStart, c.positive, c.perNeuron, c.dyadic)
}

func lockCases() []lockCase {
	var cases []lockCase
	for _, leak := range []float64{1, 0.9} {
		for _, reset := range []ResetMode{ResetSubtract, ResetZero} {
			for _, enc := range []Encoding{Analog, Rate, Poisson} {
				for _, prop := range []Propagation{SameStep, NextStep} {
					for _, readout := range []Readout{Membrane, Spikes} {
						cases = append(cases, lockCase{leak: leak, reset: reset, enc: enc, prop: prop, readout: readout})
					}
				}
			}
		}
	}
	// Variants on the side: carried membranes, signed encoder edge cases,
	// per-neuron thresholds and initial membranes.
	for _, prop := range []Propagation{SameStep, NextStep} {
		cases = append(cases,
			lockCase{leak: 1, reset: ResetSubtract, enc: Rate, prop: prop, readout: Spikes, carry: true},
			lockCase{leak: 0.9, reset: ResetZero, enc: Analog, prop: prop, readout: Membrane, carry: true},
			lockCase{leak: 1, reset: ResetSubtract, enc: Rate, prop: prop, readout: Spikes, positive: true},
			lockCase{leak: 1, reset: ResetSubtract, enc: Rate, prop: prop, readout: Spikes, positive: true, negStart: true},
			lockCase{leak: 0.95, reset: ResetSubtract, enc: Rate, prop: prop, readout: Membrane, perNeuron: true},
			lockCase{leak: 1, reset: ResetZero, enc: Analog, prop: prop, readout: Spikes, perNeuron: true},
			lockCase{leak: 1, reset: ResetSubtract, enc: Rate, prop: prop, readout: Spikes, dyadic: true},
			lockCase{leak: 1, reset: ResetSubtract, enc: Rate, prop: prop, readout: Spikes, dyadic: true, negStart: true},
			lockCase{leak: 1, reset: ResetZero, enc: Analog, prop: prop, readout: Membrane, dyadic: true})
	}
	return cases
}

// lockNetwork builds a 5-24-19-3, 3-17-6-1 or 5-70-40-3 network (widths that
// are not multiples of a vector) for c.
func lockNetwork[F Float](t testing.TB, c lockCase, seed uint64) *NetworkOf[F] {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	v0 := F(0.5)
	if c.negStart {
		v0 = -1.5
	}
	spec := NetworkOf[F]{Input: InputOf[F]{Encoding: c.enc, Gain: 0.8, Threshold: 1, InitialMembrane: v0},
		Timesteps: 40, Propagation: c.prop, Readout: c.readout, OutputScale: 1.5}
	sizes := []int{5, 24, 19, 3}
	switch {
	case c.carry || c.perNeuron:
		sizes = []int{3, 17, 6, 1} // every remainder of four-neuron groups
	case c.negStart:
		sizes = []int{5, 70, 40, 3} // wide enough for the per-sample next-step kernel
	}
	for l := 0; l+1 < len(sizes); l++ {
		in, out := sizes[l], sizes[l+1]
		w := make([]F, in*out)
		for i := range w {
			w[i] = F(rng.NormFloat64() * 1.5 / math.Sqrt(float64(in)))
		}
		if c.dyadic {
			for i := range w {
				w[i] = F(math.Round(float64(w[i])*8) / 8)
			}
		}
		if l == 1 {
			w[3] = 0 // a +0 and a -0 weight
			w[4] = F(math.Copysign(0, -1))
		}
		b := make([]F, out)
		for i := range b {
			b[i] = F(0.05 + 0.05*rng.NormFloat64())
			if c.dyadic {
				b[i] = F(math.Round(float64(b[i])*8) / 8)
			}
		}
		layer := LayerOf[F]{Name: fmt.Sprintf("fc%d", l+1), In: in, Out: out, Weights: w, Bias: b,
			Threshold: 1, Leak: F(c.leak), Reset: c.reset, InitialMembrane: 0.5}
		if c.perNeuron {
			layer.Thresholds = make([]F, out)
			layer.InitialMembranes = make([]F, out)
			for o := range out {
				layer.Thresholds[o] = F(0.5 + rng.Float64())
				layer.InitialMembranes[o] = F(rng.Float64() - 0.5)
			}
		}
		spec.Layers = append(spec.Layers, layer)
	}
	net, err := New(spec)
	if err != nil {
		t.Fatal(err)
	}
	return net
}

// lockVariants lists the lockstep kernels that run here: "avx" and
// "avx512" (wide).
func lockVariants(t *testing.T) map[string]bool {
	avx, avx512 := lockstepKernels()
	v := map[string]bool{}
	if avx {
		v["avx"] = false
	}
	if avx512 {
		v["avx512"] = true
	}
	if len(v) == 0 {
		t.Skip("no lockstep kernels on this machine (they need amd64 with AVX)")
	}
	return v
}

// TestLockstepBitIdentical runs every combination of modes through RunBatch
// with each lockstep kernel and with the per-sample path, and wants every output,
// decision, membrane (bit for bit, sign of zero included), spike count,
// encoder membrane and counter equal; batches of 16, 45 and 64 cover a padded
// chunk, a ragged last chunk and full ones.
func TestLockstepBitIdentical(t *testing.T) {
	for name, wide := range lockVariants(t) {
		for _, c := range lockCases() {
			t.Run(name+"/"+c.String()+"/float32", func(t *testing.T) { checkLockstep[float32](t, c, wide) })
			t.Run(name+"/"+c.String()+"/float64", func(t *testing.T) { checkLockstep[float64](t, c, wide) })
		}
	}
}

func checkLockstep[F Float](t *testing.T, c lockCase, wide bool) {
	net := lockNetwork[F](t, c, 3)
	const maxBatch = 64
	x := make([]F, maxBatch*net.InputSize())
	rng := rand.New(rand.NewPCG(11, 0))
	for i := range x {
		x[i] = F(2.5*rng.Float64() - 1.25)
		if c.positive {
			x[i] = F(math.Abs(float64(x[i])))
		}
		if c.dyadic {
			x[i] = F(math.Round(float64(x[i])*8) / 8)
		}
	}
	x[1], x[2] = 0, F(math.Copysign(0, -1)) // signed zeros in the input too
	fast, slow := net.NewState(maxBatch), net.NewState(maxBatch)
	if fast.lock = newLockstep(net, wide); fast.lock == nil || fast.lock.wide != wide {
		t.Fatal("no lockstep scratch of the wanted kernel")
	}
	slow.lock = nil
	for _, s := range []*StateOf[F]{fast, slow} {
		s.CarryMembrane = c.carry
		s.Source = rand.NewPCG(5, 9)
	}
	out := net.OutputSize()
	for _, batch := range []int{16, 45, 64, 45} {
		xs := x[:batch*net.InputSize()]
		dFast, dSlow := make([]F, batch*out), make([]F, batch*out)
		aFast, aSlow := make([]int, batch), make([]int, batch)
		if err := net.RunBatch(dFast, aFast, xs, batch, fast, 0); err != nil {
			t.Fatal(err)
		}
		if err := net.RunBatch(dSlow, aSlow, xs, batch, slow, 0); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(aFast, aSlow) {
			t.Fatalf("batch %d: decisions differ:\nlockstep   %v\nper-sample %v", batch, aFast, aSlow)
		}
		if i := firstBitDiff(dFast, dSlow); i >= 0 {
			t.Fatalf("batch %d: output [%d] is %v (lockstep), %v (per-sample)", batch, i, dFast[i], dSlow[i])
		}
		for l := range net.layers {
			for sample := range batch {
				if !slices.Equal(fast.Counts(sample, l), slow.Counts(sample, l)) {
					t.Fatalf("batch %d: layer %d sample %d counts %v (lockstep), %v (per-sample)",
						batch, l, sample, fast.Counts(sample, l), slow.Counts(sample, l))
				}
				if i := firstBitDiff(fast.Membrane(sample, l), slow.Membrane(sample, l)); i >= 0 {
					t.Fatalf("batch %d: layer %d sample %d membrane [%d] is %v (lockstep), %v (per-sample)",
						batch, l, sample, i, fast.Membrane(sample, l)[i], slow.Membrane(sample, l)[i])
				}
			}
		}
		if i := firstBitDiff(fast.input, slow.input); i >= 0 {
			t.Fatalf("batch %d: encoder membrane [%d] is %v (lockstep), %v (per-sample)", batch, i, fast.input[i], slow.input[i])
		}
		fc, sc := fast.Counters, slow.Counters
		if fc.Decisions != sc.Decisions || fc.Steps != sc.Steps || fc.InputSpikes != sc.InputSpikes ||
			fc.SynOps != sc.SynOps || fc.InputMACs != sc.InputMACs || !slices.Equal(fc.Spikes, sc.Spikes) {
			t.Fatalf("batch %d: counters %+v (lockstep), %+v (per-sample)", batch, fc, sc)
		}
	}
	// The case must exercise the network: some spikes in every layer.
	for l, k := range slow.Counters.Spikes {
		if k == 0 && !(l == len(net.layers)-1 && c.readout == Membrane) {
			t.Errorf("layer %d never fired; the comparison is vacuous", l)
		}
	}
	if c.enc != Analog && slow.Counters.InputSpikes == 0 {
		t.Errorf("no input spikes; the comparison is vacuous")
	}
}

func firstBitDiff[F Float](a, b []F) int {
	if len(a) != len(b) {
		return 0
	}
	for i := range a {
		if bitsOf(a[i]) != bitsOf(b[i]) {
			return i
		}
	}
	return -1
}

// TestLockstepNegativeSpikes checks that the cases above reach the encoder's
// negative spikes (lockNegative), and also that an all-positive chunk makes
// none, so both kernel branches are compared.
func TestLockstepNegativeSpikes(t *testing.T) {
	for name, wide := range lockVariants(t) {
		for _, positive := range []bool{false, true} {
			checkNegativeSpikes(t, name, wide, positive)
		}
	}
}

func checkNegativeSpikes(t *testing.T, name string, wide, positive bool) {
	t.Helper()
	{
		c := lockCase{leak: 1, reset: ResetSubtract, enc: Rate, prop: NextStep, readout: Spikes, positive: positive}
		net := lockNetwork[float32](t, c, 3)
		rng := rand.New(rand.NewPCG(11, 0))
		x := make([]float32, 32*net.InputSize())
		for i := range x {
			x[i] = float32(2.5*rng.Float64() - 1.25)
			if positive {
				x[i] = float32(math.Abs(float64(x[i])))
			}
		}
		s := net.NewState(32)
		s.lock = newLockstep(net, wide)
		if err := net.RunBatch(nil, nil, x, 32, s, 0); err != nil {
			t.Fatal(err)
		}
		neg := false
		for _, v := range s.lock.nm {
			neg = neg || math.IsNaN(float64(v)) // an all-ones mask lane
		}
		for _, b := range s.lock.nmBits {
			neg = neg || b != 0
		}
		if neg == positive || (s.lock.layers[0].flags&lockNegative != 0) == positive {
			t.Errorf("%s: positive inputs %v: negative spike masks present %v, lockNegative %v",
				name, positive, neg, s.lock.layers[0].flags&lockNegative != 0)
		}
	}
}

// TestLockstepZeroAllocs: the lockstep path allocates nothing per run either.
func TestLockstepZeroAllocs(t *testing.T) {
	lockVariants(t)
	for _, c := range []lockCase{
		{leak: 1, reset: ResetSubtract, enc: Rate, prop: NextStep, readout: Spikes},
		{leak: 0.9, reset: ResetZero, enc: Analog, prop: SameStep, readout: Membrane},
	} {
		t.Run(c.String(), func(t *testing.T) {
			net := lockNetwork[float64](t, c, 3)
			const batch = 40
			x := make([]float64, batch*net.InputSize())
			for i := range x {
				x[i] = float64(i%7)/3 - 1
			}
			s := net.NewState(batch)
			q, actions := make([]float64, batch*net.OutputSize()), make([]int, batch)
			if n := testing.AllocsPerRun(10, func() {
				if err := net.RunBatch(q, actions, x, batch, s, 0); err != nil {
					t.Fatal(err)
				}
			}); n != 0 {
				t.Errorf("lockstep RunBatch: %v allocations", n)
			}
		})
	}
}

// BenchmarkLockstepKernels times RunBatch per decision with each lockstep
// kernel and with the per-sample path, on the Brian2 ff network (4-16-16-2,
// Rate, next-step, T = 100, 1000 inputs) and on BenchmarkDecision's
// 4-64-64-2 network (analog, T = 64, batch 64).
func BenchmarkLockstepKernels(b *testing.B) {
	d := loadBrian2FF(b)
	x32 := make([]float32, len(d.X))
	for i, v := range d.X {
		x32[i] = float32(v)
	}
	ff64, ff32 := brian2Network[float64](b, d), brian2Network[float32](b, d)
	dense := randomNetwork(b, []int{4, 64, 64, 2}, 1, NextStep, Membrane, Analog)
	xd := randomInputs(64, 4, 9)
	for _, variant := range []string{"per-sample", "avx", "avx512"} {
		b.Run("ff/float64/"+variant, func(b *testing.B) { benchVariant(b, ff64, d.X, d.N, variant) })
		b.Run("ff/float32/"+variant, func(b *testing.B) { benchVariant(b, ff32, x32, d.N, variant) })
		b.Run("4-64-64-2/float32/"+variant, func(b *testing.B) { benchVariant(b, dense, xd, 64, variant) })
	}
}

func benchVariant[F Float](b *testing.B, net *NetworkOf[F], x []F, n int, variant string) {
	state := net.NewState(n)
	switch variant {
	case "per-sample":
		state.lock = nil
	default:
		if state.lock = newLockstep(net, variant == "avx512"); state.lock == nil || state.lock.wide != (variant == "avx512") {
			b.Skip(variant + " kernels do not run here")
		}
	}
	actions := make([]int, n)
	for b.Loop() {
		if err := net.RunBatch(nil, actions, x, n, state, 0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(state.Counters.Decisions), "ns/decision")
}

// TestBrian2FFPathsAgree runs the Brian2 ff fixture (which RunBatch takes in
// lockstep) through the per-sample path as well, in both precisions, and
// wants the same decisions, counts and membranes bit for bit; with
// TestBrian2FFExact this holds both paths to Brian2.
func TestBrian2FFPathsAgree(t *testing.T) {
	d := loadBrian2FF(t)
	t.Run("float64", func(t *testing.T) { checkPathsAgree(t, brian2Network[float64](t, d), d.X, d.N) })
	x32 := make([]float32, len(d.X))
	for i, v := range d.X {
		x32[i] = float32(v)
	}
	t.Run("float32", func(t *testing.T) { checkPathsAgree(t, brian2Network[float32](t, d), x32, d.N) })
}

func checkPathsAgree[F Float](t *testing.T, net *NetworkOf[F], x []F, n int) {
	fast, slow := net.NewState(n), net.NewState(n)
	slow.lock = nil
	af, as := make([]int, n), make([]int, n)
	if err := net.RunBatch(nil, af, x, n, fast, 0); err != nil {
		t.Fatal(err)
	}
	if err := net.RunBatch(nil, as, x, n, slow, 0); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(af, as) {
		t.Fatal("decisions differ between the lockstep and per-sample paths")
	}
	for l := range net.layers {
		if !slices.Equal(fast.counts[l], slow.counts[l]) {
			t.Fatalf("layer %d counts differ between the paths", l)
		}
		if i := firstBitDiff(fast.membrane[l], slow.membrane[l]); i >= 0 {
			t.Fatalf("layer %d membrane [%d]: %v (lockstep), %v (per-sample)", l, i, fast.membrane[l][i], slow.membrane[l][i])
		}
	}
	if fast.lock == nil && lockstepFitsHere() {
		t.Error("the fixture did not take the lockstep path")
	}
}

func lockstepFitsHere() bool {
	avx, avx512 := lockstepKernels()
	return avx || avx512
}

func TestLockstepPaysOn(t *testing.T) {
	narrow := randomNetwork(t, []int{4, 16, 16, 2}, 1, NextStep, Membrane, Analog)
	wide := randomNetwork(t, []int{4, 64, 64, 2}, 1, NextStep, Membrane, Analog)
	for _, tc := range []struct {
		name        string
		net         *Network
		avx, avx512 bool
		want        bool
	}{
		{"narrow, AVX-512", narrow, true, true, true},
		{"wide, AVX-512", wide, true, true, true},
		{"narrow, AVX only", narrow, true, false, true},
		// BenchmarkLockstepKernels: 6,655 (AVX) vs 6,181 ns (per sample).
		{"wide, AVX only", wide, true, false, false},
		{"no vector kernels", narrow, false, false, false},
	} {
		if got := lockstepPaysOn(tc.net, tc.avx, tc.avx512); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
