package train

import "math"

// adam is Adam (Kingma & Ba) in plain Go, with torch.optim.Adam's update:
//
//	m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g²
//	p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
//
// It is done outside Gorgonia so its moments and step count are plain
// slices that checkpoints save and restore exactly (Gorgonia's AdamSolver
// keeps them unexported). Tensors are indexed by qParams.tensors order.
type adam struct {
	beta1, beta2, eps float64
	step              int64
	m, v              [][]float32
}

func newAdam(params [][]float32) *adam {
	a := &adam{beta1: 0.9, beta2: 0.999, eps: 1e-8}
	for _, p := range params {
		a.m = append(a.m, make([]float32, len(p)))
		a.v = append(a.v, make([]float32, len(p)))
	}
	return a
}

// update applies one step with learning rate lr to params given grads.
func (a *adam) update(params, grads [][]float32, lr float64) {
	a.step++
	t := float64(a.step)
	bc1 := 1 - math.Pow(a.beta1, t)
	bc2 := 1 - math.Pow(a.beta2, t)
	stepSize := float32(lr / bc1)
	sqrtBC2 := float32(math.Sqrt(bc2))
	b1, b2 := float32(a.beta1), float32(a.beta2)
	eps := float32(a.eps)
	c := [7]float32{b1, 1 - b1, b2, 1 - b2, sqrtBC2, eps, stepSize}
	for k, p := range params {
		g, m, v := grads[k], a.m[k], a.v[k]
		g = g[:len(p)]
		m = m[:len(p)]
		v = v[:len(p)]
		// The vector kernel (adam_amd64.s) does what it can in blocks of 8
		// with the same float32 operations; the loop below does the rest.
		for i := adamStepVec(p, g, m, v, &c); i < len(p); i++ {
			gi := g[i]
			mi := b1*m[i] + (1-b1)*gi
			vi := b2*v[i] + (1-b2)*gi*gi
			m[i], v[i] = mi, vi
			denom := float32(math.Sqrt(float64(vi)))/sqrtBC2 + eps
			p[i] -= stepSize * mi / denom
		}
	}
}
