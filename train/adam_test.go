package train

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The vector Adam kernel gives the very bits of the scalar loop, over
// several steps, on tensors whose lengths are and are not multiples of 8,
// with zero, tiny and large gradients.
func TestAdamKernelMatchesScalar(t *testing.T) {
	if !adamAVX {
		t.Skip("no vector Adam kernel on this CPU")
	}
	rng := rand.New(rand.NewPCG(21, 22))
	sizes := []int{4096, 64, 13, 7, 2, 256}
	mk := func() ([][]float32, [][][]float32) {
		var params [][]float32
		for _, n := range sizes {
			p := make([]float32, n)
			for i := range p {
				p[i] = float32(rng.NormFloat64())
			}
			params = append(params, p)
		}
		var grads [][][]float32
		for step := 0; step < 5; step++ {
			var gs [][]float32
			for _, n := range sizes {
				g := make([]float32, n)
				for i := range g {
					switch i % 5 {
					case 0:
						g[i] = 0
					case 1:
						g[i] = float32(rng.NormFloat64() * 1e-30)
					case 2:
						g[i] = float32(rng.NormFloat64() * 1e4)
					default:
						g[i] = float32(rng.NormFloat64())
					}
				}
				gs = append(gs, g)
			}
			grads = append(grads, gs)
		}
		return params, grads
	}
	params, grads := mk()
	scalarParams := make([][]float32, len(params))
	for i, p := range params {
		scalarParams[i] = append([]float32(nil), p...)
	}
	vec, scalar := newAdam(params), newAdam(scalarParams)
	defer func(old bool) { adamAVX = old }(adamAVX)
	for step, gs := range grads {
		lr := 1e-3 / float64(step+1)
		adamAVX = true
		vec.update(params, gs, lr)
		adamAVX = false
		scalar.update(scalarParams, gs, lr)
		for k := range params {
			for i := range params[k] {
				if math.Float32bits(params[k][i]) != math.Float32bits(scalarParams[k][i]) ||
					math.Float32bits(vec.m[k][i]) != math.Float32bits(scalar.m[k][i]) ||
					math.Float32bits(vec.v[k][i]) != math.Float32bits(scalar.v[k][i]) {
					t.Fatalf("step %d tensor %d [%d]: vector p/m/v %v/%v/%v, scalar %v/%v/%v", step+1, k, i,
						params[k][i], vec.m[k][i], vec.v[k][i], scalarParams[k][i], scalar.m[k][i], scalar.v[k][i])
				}
			}
		}
	}
}
