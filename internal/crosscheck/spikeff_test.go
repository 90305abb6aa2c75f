package crosscheck

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/spikebridge/spikebridge/emulator"
	"github.com/spikebridge/spikebridge/internal/testfixtures"
	"github.com/spikebridge/spikebridge/model"
)

// referenceSpikingForward simulates the MLP net as a spiking forward model
// for T steps, written straight from the equations of train's
// TrainSpikingForward documentation, independently of snn/ and convert/
// (it was train's own simulator before the model moved onto snn/):
//
//	analog input: layer 1's current is the constant W1 x + b1
//	hidden layer l, step t: v += W_l s_{l−1,t} + b_l (v(0) = 1/2), s = [v >= 1], v −= s
//	readout: y = W_out (Σ_t s_{L,t}) / T + b_out
func referenceSpikingForward(net *model.Network, T int, dst, x []float32) {
	var dense []model.Layer
	for _, l := range net.Layers() {
		if l.Kind == model.Dense {
			dense = append(dense, l)
		}
	}
	hidden := dense[:len(dense)-1]
	first := hidden[0]
	drive := make([]float32, first.Out)
	for o := range drive {
		sum := float32(0)
		for i, w := range first.Weights[o*first.In : (o+1)*first.In] {
			sum += w * x[i]
		}
		if first.Bias != nil {
			sum += first.Bias[o]
		}
		drive[o] = sum
	}
	v := make([][]float32, len(hidden))
	spikes := make([][]int, len(hidden))
	for l, d := range hidden {
		v[l] = make([]float32, d.Out)
		for o := range v[l] {
			v[l][o] = 0.5
		}
	}
	counts := make([]float32, hidden[len(hidden)-1].Out)
	for t := 0; t < T; t++ {
		for l, d := range hidden {
			vl := v[l]
			if l == 0 {
				for o := range vl {
					vl[o] += drive[o]
				}
			} else {
				if d.Bias != nil {
					for o := range vl {
						vl[o] += d.Bias[o]
					}
				}
				for _, i := range spikes[l-1] {
					for o := range vl {
						vl[o] += d.Weights[o*d.In+i]
					}
				}
			}
			s := spikes[l][:0]
			for o, u := range vl {
				if u >= 1 {
					s = append(s, o)
					vl[o] = u - 1
				}
			}
			spikes[l] = s
		}
		for _, i := range spikes[len(hidden)-1] {
			counts[i]++
		}
	}
	out := dense[len(dense)-1]
	for o := 0; o < out.Out; o++ {
		sum := float32(0)
		for i, w := range out.Weights[o*out.In : (o+1)*out.In] {
			sum += w * (counts[i] / float32(T))
		}
		if out.Bias != nil {
			sum += out.Bias[o]
		}
		dst[o] = sum
	}
}

// readoutBound bounds |snn − reference| of output o at T steps when both
// see the same spikes. snn sums the readout's weighted spikes into a
// membrane every step and divides by T at the end; the reference counts
// spikes and weights the rates: T+2 float32 roundings (unit roundoff
// 2^-24) of sums no larger than Σ_i |W_oi| + |b_o|. A spike that flips
// between them would move the output by |W_oi|/T, far above the bound.
func readoutBound(net *model.Network, o, T int) float64 {
	var out model.Layer
	for _, l := range net.Layers() {
		if l.Kind == model.Dense {
			out = l
		}
	}
	sum := 0.0
	for _, w := range out.Weights[o*out.In : (o+1)*out.In] {
		sum += math.Abs(float64(w))
	}
	if out.Bias != nil {
		sum += math.Abs(float64(out.Bias[o]))
	}
	return float64(T+2) * 0x1p-24 * sum
}

// A spiking forward model as emulator runs it (and train scores it) is the
// network convert's unit-scale conversion builds, run by snn/: the same
// outputs as the reference simulation at every T, and the same spike counts
// (no output off by a flipped spike).
func TestSpikingForwardRegressorMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, sizes := range [][]int{{4, 12, 10, 3}, {3, 20, 2}, {5, 8, 8, 8, 1}} {
		net := testfixtures.RandomMLP(t, rng, sizes, testfixtures.MLPInit{FanInScaled: true, BiasMean: 0.3, BiasStd: 0.2})
		in, out := sizes[0], sizes[len(sizes)-1]
		x := make([]float32, in)
		got, want := make([]float32, out), make([]float32, out)
		for _, T := range []int{1, 7, 32} {
			r, err := emulator.NewSpikingForwardRegressor(net, T)
			if err != nil {
				t.Fatal(err)
			}
			worst, worstRatio, differing := 0.0, 0.0, 0
			for k := 0; k < 200; k++ {
				for i := range x {
					x[i] = float32(rng.NormFloat64())
				}
				if err := r.Predict(got, x); err != nil {
					t.Fatal(err)
				}
				referenceSpikingForward(net, T, want, x)
				for o := range got {
					d, bound := math.Abs(float64(got[o]-want[o])), readoutBound(net, o, T)
					if d > bound {
						t.Fatalf("%v T=%d, sample %d, output %d: snn %v, reference %v: differ by %.3g, bound %.3g", sizes, T, k, o, got[o], want[o], d, bound)
					}
					worstRatio = max(worstRatio, d/bound)
					if d > 0 {
						differing++
					}
					worst = max(worst, d)
				}
			}
			if r.Counters().TotalSpikes() == 0 {
				t.Fatalf("%v T=%d: no spikes", sizes, T)
			}
			t.Logf("%v T=%d: %d of %d outputs differ, by at most %.3g (%.2f of the bound)", sizes, T, differing, 200*out, worst, worstRatio)
		}
	}
}
