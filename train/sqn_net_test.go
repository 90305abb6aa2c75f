package train

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/spikebridge/spikebridge/formats"
)

// torchSQN loads testdata/sqn_torch.npz (written by make_sqn_torch.py from
// sqn_torch.py's SQN) as parameters: W0 is (5, 64) (in, out) whose last row
// is the bias input.
func torchSQN(t testing.TB) (*sqnParams, map[string]*formats.Array) {
	t.Helper()
	arrs, err := formats.ReadNPZ(filepath.Join("testdata", "sqn_torch.npz"))
	if err != nil {
		t.Fatal(err)
	}
	p := newSQNParams([]int{4, 64, 64, 2})
	for l := 0; l < 3; l++ {
		w := arrs[[]string{"W0", "W1", "W2"}[l]]
		in, out := w.Shape[0], w.Shape[1]
		for i := 0; i < in; i++ {
			for o := 0; o < out; o++ {
				v := float32(w.Data[i*out+o])
				if l == 0 && i == in-1 {
					p.bias0[o] = v
				} else {
					p.weights[l][o*p.sizes[l]+i] = v
				}
			}
		}
	}
	return p, arrs
}

// dsqnNeurons are sqn_torch.py's neurons: its T = 20 steps are 18 of ours
// (its first step only moves the input current one step along, and its
// output membrane misses the last step's spikes).
var dsqnNeurons = SQNNeurons{Timesteps: 18, Threshold: 1, Leak: 1, Surrogate: SurrogateSuperSpike, SurrogateK: 100}

func TestSQNForwardMatchesTorch(t *testing.T) {
	p, arrs := torchSQN(t)
	states := arrs["states"].Float32s()
	want := arrs["q"].Float32s()
	n := newSQNNet(p, dsqnNeurons, 1000)
	q := n.forward(states, 1000)
	bad, maxErr := 0, 0.0
	for i := range q {
		e := math.Abs(float64(q[i] - want[i]))
		if e > 1e-4*math.Max(1, math.Abs(float64(want[i]))) {
			bad++
		}
		maxErr = max(maxErr, e)
	}
	t.Logf("max |Q - Q_torch| = %g, %d of %d values off by more than 1e-4", maxErr, bad, len(q))
	// Torch's matmul sums in another order, so a membrane within rounding of
	// the threshold may spike in one and not the other; allow 1 % such values.
	if bad > len(q)/100 {
		t.Errorf("%d of %d Q-values differ from torch's by more than 1e-4 (max %g)", bad, len(q), maxErr)
	}
}

func TestSQNGradientsMatchTorch(t *testing.T) {
	p, arrs := torchSQN(t)
	states := arrs["states"].Float32s()[:64*4]
	act := arrs["act"].Data
	tgt := arrs["tgt"].Float32s()
	n := newSQNNet(p, dsqnNeurons, 64)
	q := n.forward(states, 64)
	gQ := make([]float32, 128)
	loss := 0.0
	for b := 0; b < 64; b++ {
		a := int(act[b])
		d := q[b*2+a] - tgt[b]
		loss += float64(d*d) / 64
		gQ[b*2+a] = 2 * d / 64
	}
	if want := arrs["loss"].Data[0]; math.Abs(loss-want) > 1e-4*want {
		t.Errorf("loss %g, torch %g", loss, want)
	}
	g := n.backward(gQ)
	// Torch's gradients, (in, out), mapped onto ours.
	check := func(name string, got func(i, o int) float32) {
		w := arrs[name]
		in, out := w.Shape[0], w.Shape[1]
		num, den := 0.0, 0.0
		for i := 0; i < in; i++ {
			for o := 0; o < out; o++ {
				d := float64(got(i, o)) - w.Data[i*out+o]
				num += d * d
				den += w.Data[i*out+o] * w.Data[i*out+o]
			}
		}
		rel := math.Sqrt(num / den)
		t.Logf("%s: relative L2 error %.2e (|g| %.3g)", name, rel, math.Sqrt(den))
		if rel > 1e-3 {
			t.Errorf("%s: gradients differ from torch's by %.2e (relative L2), want <= 1e-3", name, rel)
		}
	}
	check("gW0", func(i, o int) float32 {
		if i == 4 {
			return g[1][o]
		}
		return g[0][o*4+i]
	})
	check("gW1", func(i, o int) float32 { return g[2][o*64+i] })
	check("gW2", func(i, o int) float32 { return g[3][o*64+i] })
}
