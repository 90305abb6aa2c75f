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
	gemv(dst, w[:len(dst)*len(x)], x)
	if bias != nil {
		for o, b := range bias[:len(dst)] {
			dst[o] += b
		}
	}
}

// gemvGeneric computes dst[o] = sum_i w[o*n+i] * x[i], n = len(x), in the same
// order as the SSE kernel: 16 partial sums (four 4-lane accumulators) over
// blocks of 16, then blocks of 4 into the first accumulator, a fixed pairwise
// combination, then the remaining elements one by one. The explicit float32
// conversions stop the compiler from fusing multiply-adds, so this function
// and the assembly give bit-identical results.
func gemvGeneric(dst, w, x []float32) {
	n := len(x)
	for o := range dst {
		row := w[o*n:][:n]
		var acc [16]float32
		i := 0
		for ; i+16 <= n; i += 16 {
			r := row[i : i+16]
			v := x[i : i+16]
			for k := range acc {
				acc[k] += float32(r[k] * v[k])
			}
		}
		for ; i+4 <= n; i += 4 {
			for k := 0; k < 4; k++ {
				acc[k] += float32(row[i+k] * x[i+k])
			}
		}
		var lane [4]float32
		for k := 0; k < 4; k++ {
			lane[k] = (acc[k] + acc[4+k]) + (acc[8+k] + acc[12+k])
		}
		sum := (lane[0] + lane[2]) + (lane[1] + lane[3])
		for ; i < n; i++ {
			sum += float32(row[i] * x[i])
		}
		dst[o] = sum
	}
}
