package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"

	G "gorgonia.org/gorgonia"
)

// The graph's loss and gradients must match finite differences of a plain-Go
// loss computed from model forward passes (an independent implementation).
func TestLossGraphGradientsMatchFiniteDifferences(t *testing.T) {
	for _, loss := range []string{"huber", "mse"} {
		t.Run(loss, func(t *testing.T) {
			const batch = 8
			p := newQParams([]int{4, 16, 8, 3})
			p.initTorchDefault(rand.New(rand.NewPCG(1, 2)))
			rng := rand.New(rand.NewPCG(3, 4))
			obs := make([]float32, batch*4)
			for i := range obs {
				obs[i] = float32(rng.NormFloat64())
			}
			actions := make([]int, batch)
			targets := make([]float32, batch)
			for i := range actions {
				actions[i] = rng.IntN(3)
				targets[i] = float32(rng.NormFloat64() * 2) // mixes |d| < 1 and > 1 for huber
			}
			lg, err := newLossGraph(p, batch, loss)
			if err != nil {
				t.Fatal(err)
			}
			lg.setInputs(obs, actions, targets)
			got, grads, err := lg.run()
			if err != nil {
				t.Fatal(err)
			}
			ref := func() float64 { return plainLoss(p, obs, actions, targets, loss) }
			if want := ref(); math.Abs(float64(got)-want) > 1e-5*math.Max(1, math.Abs(want)) {
				t.Fatalf("loss %v, plain Go %v", got, want)
			}
			for k, tens := range p.tensors() {
				for _, i := range []int{0, len(tens) / 2, len(tens) - 1} {
					old := tens[i]
					const h = 1e-2
					tens[i] = old + h
					up := ref()
					tens[i] = old - h
					down := ref()
					tens[i] = old
					fd := (up - down) / (2 * h)
					if math.Abs(float64(grads[k][i])-fd) > 2e-3*math.Max(1, math.Abs(fd)) {
						t.Errorf("tensor %d [%d]: gradient %v, finite difference %v", k, i, grads[k][i], fd)
					}
				}
			}
			// A second run on the same inputs gives the same numbers (graph reuse).
			first := append([]float32(nil), grads[0]...)
			if _, grads2, _ := lg.run(); grads2[0][3] != first[3] {
				t.Errorf("rerun changed gradients: %v vs %v", grads2[0][3], first[3])
			}
		})
	}
}

// plainLoss is the mean Huber (beta 1) or squared TD error in float64 from
// the plain-Go model forward.
func plainLoss(p *qParams, obs []float32, actions []int, targets []float32, loss string) float64 {
	net := p.network()
	ws := net.NewWorkspace(1)
	in, out := net.InputSize(), net.OutputSize()
	q := make([]float32, out)
	total := 0.0
	for s := range actions {
		net.Forward(q, obs[s*in:(s+1)*in], ws)
		d := float64(q[actions[s]]) - float64(targets[s])
		switch loss {
		case "mse":
			total += d * d
		default:
			if a := math.Abs(d); a < 1 {
				total += 0.5 * a * a
			} else {
				total += a - 0.5
			}
		}
	}
	return total / float64(len(actions))
}

// The fused-op graph gives the bits of the elementary-op Gorgonia graph the
// trainer used before (graph_reference_test.go) for every gradient (batch a
// power of two; close otherwise), so training runs are unchanged, and the
// graph runner gives the very bits Gorgonia's TapeMachine gives on the same
// graph.
func TestLossGraphBitIdenticalToElementaryGraph(t *testing.T) {
	for _, tc := range []struct {
		sizes []int
		batch int
		loss  string
	}{
		{[]int{4, 64, 64, 2}, 64, "huber"},
		{[]int{4, 64, 64, 2}, 64, "mse"},
		{[]int{5, 12, 7, 9, 3}, 16, "huber"},
		{[]int{5, 12, 7, 9, 3}, 10, "huber"},
		{[]int{4, 100, 70, 2}, 128, "huber"},
	} {
		t.Run(fmt.Sprintf("%v/%d/%s", tc.sizes, tc.batch, tc.loss), func(t *testing.T) {
			in, nA := tc.sizes[0], tc.sizes[len(tc.sizes)-1]
			p := newQParams(tc.sizes)
			p.initTorchDefault(rand.New(rand.NewPCG(5, 6)))
			rng := rand.New(rand.NewPCG(7, 8))
			obs := make([]float32, tc.batch*in)
			for i := range obs {
				obs[i] = float32(rng.NormFloat64())
			}
			actions := make([]int, tc.batch)
			targets := make([]float32, tc.batch)
			for i := range actions {
				actions[i] = rng.IntN(nA)
				targets[i] = float32(rng.NormFloat64() * 2)
			}
			fused, err := newLossGraph(p, tc.batch, tc.loss)
			if err != nil {
				t.Fatal(err)
			}
			elem, err := newElemLossGraph(p, tc.batch, tc.loss)
			if err != nil {
				t.Fatal(err)
			}
			fused.setInputs(obs, actions, targets)
			elem.setInputs(obs, actions, targets)
			loss, grads, err := fused.run()
			if err != nil {
				t.Fatal(err)
			}
			grads = copyGrads(grads)
			wantLoss, wantGrads, err := elem.run()
			if err != nil {
				t.Fatal(err)
			}
			if math.Float32bits(loss) != math.Float32bits(wantLoss) {
				t.Errorf("loss %v, elementary graph %v (want the same bits)", loss, wantLoss)
			}
			// With a power-of-two batch the gradients are the same numbers
			// (zeros may differ in sign, which no later step can see);
			// otherwise 1/batch rounds and the smooth-L1 chains differ in
			// the last bits.
			exact := tc.batch&(tc.batch-1) == 0
			for k := range wantGrads {
				scale := 0.0
				for _, v := range wantGrads[k] {
					scale = math.Max(scale, math.Abs(float64(v)))
				}
				for i, v := range wantGrads[k] {
					g := grads[k][i]
					if exact && math.Float32bits(g) != math.Float32bits(v) && (g != 0 || v != 0) {
						t.Fatalf("tensor %d [%d]: gradient %v, elementary graph %v (want the same bits)", k, i, g, v)
					}
					if d := math.Abs(float64(g - v)); d > 1e-5*math.Max(scale, 1e-3) {
						t.Fatalf("tensor %d [%d]: gradient %v, elementary graph %v", k, i, g, v)
					}
				}
			}
			fused.useTape = true
			tapeLoss, tapeGrads, err := fused.run()
			if err != nil {
				t.Fatal(err)
			}
			if math.Float32bits(tapeLoss) != math.Float32bits(loss) {
				t.Errorf("TapeMachine loss %v, runner %v", tapeLoss, loss)
			}
			for k := range tapeGrads {
				for i, v := range tapeGrads[k] {
					if math.Float32bits(v) != math.Float32bits(grads[k][i]) {
						t.Fatalf("tensor %d [%d]: TapeMachine %v, runner %v", k, i, v, grads[k][i])
					}
				}
			}
		})
	}
}

func copyGrads(g [][]float32) [][]float32 {
	out := make([][]float32, len(g))
	for i, v := range g {
		out[i] = append([]float32(nil), v...)
	}
	return out
}

// A run allocates nothing once the graph is built.
func TestLossGraphRunAllocatesNothing(t *testing.T) {
	p := newQParams([]int{4, 64, 64, 2})
	p.initTorchDefault(rand.New(rand.NewPCG(1, 1)))
	lg, err := newLossGraph(p, 64, "huber")
	if err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(20, func() {
		if _, _, err := lg.run(); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("%v allocations per run, want 0", n)
	}
}

// vecMatUnfused gives the bits of C = A B from Gorgonia's BLAS (gonum's
// axpy-order GEMM, which the elementary graph's MatMul ran on), in the AVX
// kernel and in the portable loop, for widths around every kernel block.
func TestVecMatUnfusedMatchesGonum(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, dims := range [][3]int{{64, 64, 64}, {64, 4, 64}, {2, 64, 64}, {3, 7, 5}, {5, 130, 71}, {1, 1, 1}, {4, 9, 200}} {
		m, k, n := dims[0], dims[1], dims[2]
		a := make([]float32, m*k)
		b := make([]float32, k*n)
		for i := range a {
			a[i] = float32(rng.NormFloat64())
		}
		for i := range b {
			b[i] = float32(rng.NormFloat64())
		}
		want := make([]float32, m*n)
		G.WhichBLAS().Sgemm('N', 'N', m, n, k, 1, a, k, b, n, 0, want, n)
		for _, avx := range []bool{true, false} {
			if avx && !vecMatAVX {
				continue
			}
			old := vecMatAVX
			vecMatAVX = avx
			got := make([]float32, m*n)
			for i := 0; i < m; i++ {
				vecMatUnfused(got[i*n:(i+1)*n], a[i*k:(i+1)*k], b)
			}
			vecMatAVX = old
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%dx%dx%d avx=%v [%d]: %v, gonum %v", m, k, n, avx, i, got[i], want[i])
				}
			}
		}
	}
}

// dotsUnitaryOrder gives the bits of C = A Bᵀ from Gorgonia's BLAS (gonum's
// DotUnitary per element) whenever B's rows are 16-byte aligned, and its
// AVX kernel the bits of the portable one for any length.
func TestDotsUnitaryOrderMatchesGonum(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	compared := 0
	for _, dims := range [][3]int{{64, 64, 64}, {64, 4, 64}, {2, 64, 64}, {3, 9, 16}, {5, 13, 20}, {4, 7, 128}, {2, 3, 12}, {3, 5, 100}, {6, 17, 15}, {2, 8, 3}, {1, 1, 1}} {
		m, n, k := dims[0], dims[1], dims[2]
		a := make([]float32, m*k)
		b := make([]float32, n*k)
		for i := range a {
			a[i] = float32(rng.NormFloat64())
		}
		for i := range b {
			b[i] = float32(rng.NormFloat64())
		}
		bt := make([]float32, k*n)
		transposeInto(bt, b, n, k)
		aligned := k%4 == 0 && uintptr(unsafe.Pointer(&b[0]))%16 == 0
		want := make([]float32, m*n)
		G.WhichBLAS().Sgemm('N', 'T', m, n, k, 1, a, k, b, k, 0, want, n)
		generic := make([]float32, m*n)
		for i := 0; i < m; i++ {
			dotsUnitaryOrderGeneric(generic[i*n:(i+1)*n], a[i*k:(i+1)*k], bt)
		}
		for i := range want {
			if aligned && math.Float32bits(generic[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%dx%dx%d [%d]: portable %v, gonum %v", m, n, k, i, generic[i], want[i])
			}
		}
		if aligned {
			compared++
		}
		if !vecMatAVX {
			continue
		}
		got := make([]float32, m*n)
		for i := 0; i < m; i++ {
			dotsUnitaryOrder(got[i*n:(i+1)*n], a[i*k:(i+1)*k], bt)
		}
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(generic[i]) {
				t.Fatalf("%dx%dx%d [%d]: AVX %v, portable %v", m, n, k, i, got[i], generic[i])
			}
		}
	}
	if compared < 6 {
		t.Errorf("only %d shapes had aligned rows to compare with gonum", compared)
	}
}

// A whole DQN update (replay sample, target forward, graph, Adam, soft
// target step and acting-network refresh) allocates nothing, for plain and
// Double DQN (issue 19 allows at most 50).
func TestDQNUpdateAllocatesNothing(t *testing.T) {
	for _, double := range []bool{false, true} {
		cfg := ReferenceConfig()
		cfg.Double = double
		cfg.Tau = 0.005
		tr, err := NewTrainer(cfg)
		if err != nil {
			t.Fatal(err)
		}
		fillReplay(tr, 500)
		if n := testing.AllocsPerRun(20, func() {
			if _, err := tr.update(1e-4); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("double=%v: %v allocations per update, want 0", double, n)
		}
	}
}
