package model

import (
	"fmt"
	"math"
)

// Workspace holds the scratch buffers of a forward pass for up to MaxBatch
// samples. A Workspace belongs to one goroutine at a time.
type Workspace struct {
	maxBatch int
	a, b     []float32
}

// NewWorkspace allocates scratch space for batches of up to maxBatch samples.
func (n *Network) NewWorkspace(maxBatch int) *Workspace {
	if maxBatch < 1 {
		maxBatch = 1
	}
	return &Workspace{
		maxBatch: maxBatch,
		a:        make([]float32, maxBatch*n.maxWidth),
		b:        make([]float32, maxBatch*n.maxWidth),
	}
}

// Forward computes one sample: x has InputSize values, dst OutputSize values.
// It panics on wrong buffer sizes (a programming error, as in gonum).
func (n *Network) Forward(dst, x []float32, ws *Workspace) {
	n.ForwardBatch(dst, x, 1, ws)
}

// ForwardBatch computes batch samples: x is (batch, InputSize) row-major and
// dst (batch, OutputSize). It allocates nothing.
func (n *Network) ForwardBatch(dst, x []float32, batch int, ws *Workspace) {
	if batch < 1 || batch > ws.maxBatch {
		panic(fmt.Sprintf("model: batch %d outside the workspace's 1..%d", batch, ws.maxBatch))
	}
	if len(x) != batch*n.InputSize() {
		panic(fmt.Sprintf("model: input holds %d values, want batch*in = %d*%d", len(x), batch, n.InputSize()))
	}
	if len(dst) != batch*n.OutputSize() {
		panic(fmt.Sprintf("model: output holds %d values, want batch*out = %d*%d", len(dst), batch, n.OutputSize()))
	}
	cur := x
	last := len(n.layers) - 1
	for i := range n.layers {
		l := &n.layers[i]
		// Intermediate results ping-pong between the two scratch buffers.
		out := dst
		if i != last {
			out = ws.a[:batch*l.Out]
			if i%2 == 1 {
				out = ws.b[:batch*l.Out]
			}
		}
		switch l.Kind {
		case Dense:
			for s := 0; s < batch; s++ {
				denseForward(out[s*l.Out:(s+1)*l.Out], n.transposed[i], l.Bias, cur[s*l.In:(s+1)*l.In])
			}
		case ReLU:
			for j, v := range cur[:batch*l.In] {
				out[j] = max(v, 0)
			}
		case Identity:
			copy(out, cur[:batch*l.In])
		case Tanh, Sigmoid, LeakyReLU, ELU:
			activate(out, cur[:batch*l.In], l.Kind, l.Alpha)
		}
		cur = out
	}
}

// denseForward computes dst = W x + b for one sample from the transposed
// weights wt (len(x), len(dst)): each output is a fused multiply-add over the
// inputs in order, starting from zero, and the bias is added last. That is the
// order of the BLAS kernels under PyTorch's Linear on x86-64 CPUs, so Q-values
// of imported policies come out bit-identical to PyTorch's (see
// TestForwardMatchesPyTorchOrder and the policy fixtures).
func denseForward(dst, wt, bias, x []float32) {
	gemvT(dst, wt[:len(x)*len(dst)], x)
	if bias != nil {
		for o, b := range bias[:len(dst)] {
			dst[o] += b
		}
	}
}

// gemvTGeneric is the portable kernel: dst[o] = fma(x[k], wt[k*out+o], ...) for
// k = 0..in-1 with every multiply-add rounded once, as the FMA instruction does.
func gemvTGeneric(dst, wt, x []float32) {
	out := len(dst)
	clear(dst)
	for k, xk := range x {
		row := wt[k*out:][:out]
		for o, w := range row {
			dst[o] = fma32(xk, w, dst[o])
		}
	}
}

// fma32 returns a*b+c rounded once to float32. The product is exact in
// float64; the sum is exact as s+e (TwoSum). Rounding s to float32 is then
// correct unless s sits exactly halfway between two float32 values while e is
// not zero; in that case s is moved one float64 step toward e first.
func fma32(a, b, c float32) float32 {
	p := float64(a) * float64(b)
	s := p + float64(c)
	bb := s - p
	e := (p - (s - bb)) + (float64(c) - bb)
	r := float32(s)
	if e != 0 && float64(r) != s && isFloat32Midpoint(s, r) {
		s = math.Nextafter(s, math.Inf(int(math.Copysign(1, e))))
		r = float32(s)
	}
	return r
}

// isFloat32Midpoint reports whether s lies exactly halfway between r (its
// float32 rounding) and r's neighbour on s's side.
func isFloat32Midpoint(s float64, r float32) bool {
	toward := float32(math.Inf(1))
	if s < float64(r) {
		toward = float32(math.Inf(-1))
	}
	next := math.Nextafter32(r, toward)
	if math.IsInf(float64(next), 0) {
		return false
	}
	return s == (float64(r)+float64(next))/2
}
