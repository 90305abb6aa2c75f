package train

import (
	"fmt"
	"hash"
	"hash/fnv"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Fused Gorgonia ops of the DQN loss graph. Each op does the work of several
// elementary Gorgonia ops in one pass over preallocated float32 buffers, and
// its SymDiff returns the nodes of its local derivative, built from the other
// ops here; Gorgonia's G.Grad chains them (reverse-mode differentiation over
// the graph) exactly as it chains its own ops.
//
// Layout: activations are (features, batch) row-major, weights (out, in) as
// in qParams, biases (out).
//
// Numerics: the ops round exactly as the elementary-op graph they replace
// (Mul, BroadcastAdd, Rectify as x ⊙ [x >= 0], HadamardProd and Sum for
// Q(s, a), smooth L1 from Abs/Sub/Rectify/Square, Mean) did on Gorgonia's
// gonum BLAS: products accumulate unfused in k order (vecMatUnfused), weight
// gradients in the BLAS's dot-product order (dotsUnitaryOrder), bias
// gradients are sums in batch order, and the smooth-L1 chain reduces to clamp(d, -1, 1)/batch exactly for
// power-of-two batches. So updates are bit-identical to that graph's
// (TestLossGraphBitIdenticalToElementaryGraph) and training runs are the
// same as before the graph was fused.
//
// Every op owns its output buffer and returns it from Do: no allocation per
// run. The returned Value is therefore valid only until the op runs again,
// and an op must not be shared between graphs that run concurrently.
//
// This file holds what the ops share; the ops are the layer
// (dqn_ops_dense.go), its gradients (dqn_ops_grad.go) and the TD loss with
// its gradient (dqn_ops_tdloss.go).

var (
	f32Vec = G.TensorType{Dims: 1, Of: tensor.Float32}
	f32Mat = G.TensorType{Dims: 2, Of: tensor.Float32}
)

// newF32Dense allocates a float32 tensor of shape dims.
func newF32Dense(dims ...int) *tensor.Dense {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return tensor.New(tensor.WithShape(dims...), tensor.WithBacking(make([]float32, n)))
}

// f32Data returns v's float32 backing, checking its size.
func f32Data(op fmt.Stringer, i int, v G.Value, want int) ([]float32, error) {
	d, ok := v.(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("train: %v: input %d is %T, want a float32 tensor", op, i, v)
	}
	if d.Dtype() != tensor.Float32 {
		return nil, fmt.Errorf("train: %v: input %d holds %v, want float32", op, i, d.Dtype())
	}
	data := d.Float32s() // Data() would allocate an interface per call
	if len(data) != want {
		return nil, fmt.Errorf("train: %v: input %d holds %d values (shape %v), want %d", op, i, len(data), d.Shape(), want)
	}
	return data, nil
}

// opBase holds what every op here shares: no extern calls, a fresh result,
// no input overwritten, and a hash of its String (which names every parameter).
type opBase struct{ self fmt.Stringer }

func (opBase) ReturnsPtr() bool     { return false }
func (opBase) CallsExtern() bool    { return false }
func (opBase) OverwritesInput() int { return -1 }

func (b opBase) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v", b.self) }

func (b opBase) Hashcode() uint32 {
	h := fnv.New32a()
	b.WriteHash(h)
	return h.Sum32()
}

// notDifferentiable is SymDiff/DiffWRT for ops used only in gradients
// (first-order training needs no second derivatives).
type notDifferentiable struct{ self fmt.Stringer }

func (notDifferentiable) DiffWRT(n int) []bool { return make([]bool, n) }

func (d notDifferentiable) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, fmt.Errorf("train: %v has no derivative (gradient-only op)", d.self)
}

// scalarF32 reads a float32 scalar Value.
func scalarF32(op fmt.Stringer, i int, v G.Value) (float32, error) {
	switch s := v.(type) {
	case *G.F32:
		return float32(*s), nil
	case *tensor.Dense:
		if s.Dtype() == tensor.Float32 && s.Shape().TotalSize() == 1 {
			return s.Float32s()[0], nil
		}
	}
	return 0, fmt.Errorf("train: %v: input %d is %T (shape %v), want a float32 scalar", op, i, v, v.Shape())
}
