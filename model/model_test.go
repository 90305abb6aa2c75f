package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// randomMLPWeights draws an MLP's weights (N(0, 1), divided by √fan-in
// when fanInScaled) and biases (biasMean + biasStd N(0, 1)) from rng, layer
// by layer, in float64 rounded once to float32: internal/testfixtures'
// RandomMLPWeights, which model's own tests cannot import (it imports model).
func randomMLPWeights(rng *rand.Rand, sizes []int, fanInScaled bool, biasMean, biasStd float64) (ws, bs [][]float32) {
	for i := 0; i+1 < len(sizes); i++ {
		w := make([]float32, sizes[i]*sizes[i+1])
		for j := range w {
			if fanInScaled {
				w[j] = float32(rng.NormFloat64() / math.Sqrt(float64(sizes[i])))
			} else {
				w[j] = float32(rng.NormFloat64())
			}
		}
		b := make([]float32, sizes[i+1])
		for j := range b {
			b[j] = float32(biasMean + biasStd*rng.NormFloat64())
		}
		ws, bs = append(ws, w), append(bs, b)
	}
	return ws, bs
}

// randomMLP is a seeded MLP with fan-in-scaled weights and small biases.
func randomMLP(t testing.TB, sizes []int, seed uint64) *Network {
	t.Helper()
	ws, bs := randomMLPWeights(rand.New(rand.NewPCG(seed, 0)), sizes, true, 0, 0.1)
	net, err := MLP(sizes, ws, bs)
	if err != nil {
		t.Fatal(err)
	}
	return net
}

// reference computes the forward pass in float64 straight from the definition.
func reference(net *Network, x []float32) []float64 {
	cur := make([]float64, len(x))
	for i, v := range x {
		cur[i] = float64(v)
	}
	for _, l := range net.Layers() {
		next := make([]float64, l.Out)
		switch l.Kind {
		case Dense:
			for o := 0; o < l.Out; o++ {
				s := 0.0
				if l.Bias != nil {
					s = float64(l.Bias[o])
				}
				for i := 0; i < l.In; i++ {
					s += float64(l.Weights[o*l.In+i]) * cur[i]
				}
				next[o] = s
			}
		case ReLU:
			for i, v := range cur {
				next[i] = math.Max(v, 0)
			}
		case Identity:
			copy(next, cur)
		}
		cur = next
	}
	return cur
}

func TestForwardMatchesDefinition(t *testing.T) {
	for _, sizes := range [][]int{{4, 16, 16, 2}, {4, 64, 64, 2}, {3, 7, 5}, {5, 1}} {
		net := randomMLP(t, sizes, 7)
		rng := rand.New(rand.NewPCG(1, 2))
		const batch = 9
		x := make([]float32, batch*net.InputSize())
		for i := range x {
			x[i] = float32(rng.Float64()*4 - 2)
		}
		out := make([]float32, batch*net.OutputSize())
		ws := net.NewWorkspace(batch)
		net.ForwardBatch(out, x, batch, ws)
		single := make([]float32, net.OutputSize())
		for s := 0; s < batch; s++ {
			want := reference(net, x[s*net.InputSize():(s+1)*net.InputSize()])
			net.Forward(single, x[s*net.InputSize():(s+1)*net.InputSize()], ws)
			for o, w := range want {
				got := out[s*net.OutputSize()+o]
				if math.Abs(float64(got)-w) > 1e-5*(1+math.Abs(w)) {
					t.Fatalf("%v sample %d output %d: got %v, want %v", sizes, s, o, got, w)
				}
				if single[o] != got {
					t.Fatalf("%v sample %d output %d: single %v != batched %v", sizes, s, o, single[o], got)
				}
			}
		}
	}
}

func TestForwardClosedForm(t *testing.T) {
	// y = relu([1 -1; 2 0.5] x + [0.5, -3]) then [1 1] y + 0.25
	net, err := MLP([]int{2, 2, 1},
		[][]float32{{1, -1, 2, 0.5}, {1, 1}},
		[][]float32{{0.5, -3}, {0.25}})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, 1)
	net.Forward(out, []float32{2, 1}, net.NewWorkspace(1))
	// hidden = relu([1.5, 1.5]) ; out = 3.25
	if out[0] != 3.25 {
		t.Fatalf("got %v, want 3.25", out[0])
	}
	net.Forward(out, []float32{-2, 1}, net.NewWorkspace(1))
	// hidden = relu([-2.5, -6.5]) = 0 ; out = 0.25
	if out[0] != 0.25 {
		t.Fatalf("got %v, want 0.25", out[0])
	}
}

func TestForwardZeroAllocs(t *testing.T) {
	net := randomMLP(t, []int{4, 64, 64, 2}, 1)
	ws := net.NewWorkspace(64)
	x := make([]float32, 64*4)
	out := make([]float32, 64*2)
	if a := testing.AllocsPerRun(100, func() { net.Forward(out[:2], x[:4], ws) }); a != 0 {
		t.Errorf("single-sample forward 4-64-64-2: %v allocs per call, want 0", a)
	}
	if a := testing.AllocsPerRun(100, func() { net.ForwardBatch(out, x, 64, ws) }); a != 0 {
		t.Errorf("batch-64 forward 4-64-64-2: %v allocs per call, want 0", a)
	}
	p := NewQPolicy(net)
	if a := testing.AllocsPerRun(100, func() { p.Act(x[:4]) }); a != 0 {
		t.Errorf("QPolicy.Act: %v allocs per call, want 0", a)
	}
}

func TestArgmaxTiesLowest(t *testing.T) {
	cases := []struct {
		v    []float32
		want int
	}{
		{[]float32{1, 2}, 1}, {[]float32{2, 1}, 0}, {[]float32{3, 3}, 0},
		{[]float32{0, 5, 5, 1}, 1}, {[]float32{-1}, 0},
	}
	for _, c := range cases {
		if got := Argmax(c.v); got != c.want {
			t.Errorf("Argmax(%v) = %d, want %d", c.v, got, c.want)
		}
	}
}

func TestNewRejectsBadLayers(t *testing.T) {
	w := func(n int) []float32 { return make([]float32, n) }
	nan := w(8)
	nan[5] = float32(math.NaN())
	cases := []struct {
		name   string
		layers []Layer
		want   string
	}{
		{"empty", nil, "at least one layer"},
		{"size mismatch", []Layer{NewDense("fc1", 4, 2, w(8), w(2)), NewDense("fc2", 3, 1, w(3), w(1))},
			`layer 1 ("fc2", dense): input size 3 does not match the 2 outputs of layer 0 ("fc1")`},
		{"weights count", []Layer{NewDense("fc1", 4, 2, w(7), w(2))}, `layer 0 ("fc1", dense): weights hold 7 values, want out*in = 2*4 = 8`},
		{"bias count", []Layer{NewDense("fc1", 4, 2, w(8), w(3))}, "bias holds 3 values, want 2"},
		{"nan weight", []Layer{NewDense("fc1", 4, 2, nan, w(2))}, "weight [1, 1] is NaN"},
		{"duplicate name", []Layer{NewDense("fc", 4, 4, w(16), nil), NewDense("fc", 4, 1, w(4), nil)}, `name already used by layer 0`},
		{"unknown kind", []Layer{{Name: "c", Kind: "conv2d", In: 1, Out: 1}}, `unknown layer kind "conv2d"`},
		{"activation width", []Layer{{Name: "r", Kind: ReLU, In: 2, Out: 3}}, "activation must keep its width"},
		{"zero size", []Layer{NewDense("fc1", 0, 2, nil, nil)}, "sizes must be positive"},
		{"no name", []Layer{NewDense("", 1, 1, w(1), nil)}, "empty name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(c.layers)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func BenchmarkForward(b *testing.B) {
	for _, sizes := range [][]int{{4, 16, 16, 2}, {4, 64, 64, 2}} {
		net := randomMLP(b, sizes, 1)
		for _, batch := range []int{1, 64} {
			b.Run(fmt.Sprintf("%s/batch=%d", net, batch), func(b *testing.B) {
				ws := net.NewWorkspace(batch)
				x := make([]float32, batch*net.InputSize())
				for i := range x {
					x[i] = float32(i%7) * 0.1
				}
				out := make([]float32, batch*net.OutputSize())
				b.ReportAllocs()
				for b.Loop() {
					net.ForwardBatch(out, x, batch, ws)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(batch), "ns/sample")
			})
		}
	}
}

func TestRefreshSeesInPlaceChanges(t *testing.T) {
	net := randomMLP(t, []int{3, 5, 2}, 9)
	ws := net.NewWorkspace(1)
	x := []float32{0.5, -1, 2}
	before := make([]float32, 2)
	net.Forward(before, x, ws)
	w := net.Layers()[2].Weights // fc2, shared with the caller
	for i := range w {
		w[i] *= 2
	}
	stale := make([]float32, 2)
	net.Forward(stale, x, ws)
	if stale[0] != before[0] || stale[1] != before[1] {
		t.Fatalf("without Refresh the forward pass must keep its copy: %v != %v", stale, before)
	}
	net.Refresh()
	after := make([]float32, 2)
	net.Forward(after, x, ws)
	want := reference(net, x)
	for o := range after {
		if math.Abs(float64(after[o])-want[o]) > 1e-5 {
			t.Fatalf("after Refresh output %d = %v, want %v", o, after[o], want[o])
		}
	}
	if a := testing.AllocsPerRun(10, net.Refresh); a != 0 {
		t.Errorf("Refresh allocates %v times", a)
	}
}
