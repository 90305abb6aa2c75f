package train

import (
	"fmt"
	"hash"
	"hash/fnv"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// spikeOp is the Heaviside step s = [v >= threshold] of LIF neurons as a
// Gorgonia op. Its symbolic derivative is the fast-sigmoid surrogate
// ds/dv ≈ 1 / (1 + slope |v - threshold|)² (Zenke & Ganguli's SuperSpike),
// so gradients flow through spikes in backpropagation through time.
type spikeOp struct {
	threshold, slope float32
	surrogate        bool // true: the op computes the surrogate derivative itself
}

func (op spikeOp) Arity() int { return 1 }

func (op spikeOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a)
}

func (op spikeOp) InferShape(inputs ...G.DimSizer) (tensor.Shape, error) {
	s, ok := inputs[0].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("train: %v: input shape is %T, want tensor.Shape", op, inputs[0])
	}
	return s.Clone(), nil
}

func (op spikeOp) Do(values ...G.Value) (G.Value, error) {
	in, ok := values[0].(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("train: %v: input is %T, want a float32 tensor", op, values[0])
	}
	v, ok := in.Data().([]float32)
	if !ok {
		return nil, fmt.Errorf("train: %v: input holds %T, want []float32", op, in.Data())
	}
	out := make([]float32, len(v))
	for i, x := range v {
		if op.surrogate {
			d := 1 + op.slope*float32(math.Abs(float64(x-op.threshold)))
			out[i] = 1 / (d * d)
		} else if x >= op.threshold {
			out[i] = 1
		}
	}
	return tensor.New(tensor.WithShape(in.Shape().Clone()...), tensor.WithBacking(out)), nil
}

func (op spikeOp) ReturnsPtr() bool     { return false }
func (op spikeOp) CallsExtern() bool    { return false }
func (op spikeOp) OverwritesInput() int { return -1 }

// WriteHash includes every parameter: Gorgonia merges nodes with equal
// hashes, so two ops with different thresholds must hash differently.
func (op spikeOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "spike(threshold=%v,slope=%v,surrogate=%v)", op.threshold, op.slope, op.surrogate)
}

func (op spikeOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

func (op spikeOp) String() string {
	if op.surrogate {
		return fmt.Sprintf("SpikeSurrogate(θ=%v,k=%v)", op.threshold, op.slope)
	}
	return fmt.Sprintf("Spike(θ=%v)", op.threshold)
}

// DiffWRT: the step is differentiated (through its surrogate); the
// surrogate itself is never differentiated (first-order BPTT only).
func (op spikeOp) DiffWRT(inputs int) []bool { return []bool{!op.surrogate} }

// SymDiff returns grad ⊙ surrogate(v).
func (op spikeOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if op.surrogate {
		return nil, fmt.Errorf("train: %v is not differentiable", op)
	}
	sg, err := G.ApplyOp(spikeOp{threshold: op.threshold, slope: op.slope, surrogate: true}, inputs[0])
	if err != nil {
		return nil, err
	}
	d, err := G.HadamardProd(grad, sg)
	if err != nil {
		return nil, err
	}
	return G.Nodes{d}, nil
}
