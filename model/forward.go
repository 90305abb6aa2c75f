package model

import "fmt"

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
				denseForward(out[s*l.Out:(s+1)*l.Out], l.Weights, l.Bias, cur[s*l.In:(s+1)*l.In])
			}
		case ReLU:
			for j, v := range cur[:batch*l.In] {
				out[j] = max(v, 0)
			}
		case Identity:
			copy(out, cur[:batch*l.In])
		}
		cur = out
	}
}

// denseForward computes dst = W x + b for one sample, W (len(dst), len(x)).
func denseForward(dst, w, bias, x []float32) {
	in := len(x)
	for o := range dst {
		row := w[o*in : o*in+in]
		acc := dot(row, x)
		if bias != nil {
			acc += bias[o]
		}
		dst[o] = acc
	}
}

// dot is a fixed-order dot product with four independent accumulators, which
// lets the CPU overlap the multiply-adds; the order never changes between runs.
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}
