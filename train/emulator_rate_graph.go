package train

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// emulatorGraph is the Gorgonia graph of the NaN-masked MSE of one batch:
// sum(mask ⊙ (h - y)²) / sum(mask), in lossGraph's transposed layout with
// the weights shared with qParams. Missing targets enter as y = 0, mask = 0,
// so they add nothing to the loss or to any gradient; the divisor counts
// only present targets, so the loss equals the mean over the samples left.
//
// With clip-floor levels > 0 every hidden activation is
// relu(z) − relu(z − 1) + res, where res = round(clip) − clip is computed in
// plain Go (params.forwardRows) and enters as a constant, so the forward
// pass is the rounded network and the gradient the clip's (straight through).
type emulatorGraph struct {
	batch, in, out int
	params         *qParams
	levels         int
	resTV          []*tensor.Dense // per hidden layer (out, batch), clip-floor only
	resid          [][]float32     // the resTV backings
	acts           [][]float32     // plain-Go forward scratch (batch, out) per layer
	xTV, yTV, mTV  *tensor.Dense
	scaleV         *tensor.Dense
	lossTape
}

func newEmulatorGraph(params *qParams, batch, levels int) (*emulatorGraph, error) {
	sizes := params.sizes
	in, out := sizes[0], sizes[len(sizes)-1]
	eg := &emulatorGraph{batch: batch, in: in, out: out, params: params, levels: levels}
	g := G.NewGraph()
	one := G.NewConstant(float32(1), G.WithName("emu_one"))
	xT, yT, mT, scale := eg.batchNodes(g, "emu_")
	h, learnables, resTV, err := clipFloorMLP(g, params, xT, one, batch, levels, "emu_", "emulator")
	if err != nil {
		return nil, err
	}
	eg.resTV = resTV
	for _, rv := range resTV {
		eg.resid = append(eg.resid, rv.Data().([]float32))
	}
	for l := 1; l < len(sizes); l++ {
		eg.acts = append(eg.acts, make([]float32, batch*sizes[l]))
	}
	loss, err := maskedSquaredError(h, yT, mT, scale)
	if err != nil {
		return nil, err
	}
	if err := eg.compile(g, loss, learnables...); err != nil {
		return nil, fmt.Errorf("train: emulator graph gradients: %w", err)
	}
	return eg, nil
}

// batchNodes adds the graph's inputs, named with prefix: the transposed
// batch x (in, batch), its targets y and mask (out, batch), and the scalar
// 1/count, backed by eg's tensors that setBatch fills.
func (eg *emulatorGraph) batchNodes(g *G.ExprGraph, prefix string) (xT, yT, mT, scale *G.Node) {
	in, out, batch := eg.in, eg.out, eg.batch
	eg.xTV = tensor.New(tensor.WithShape(in, batch), tensor.WithBacking(make([]float32, in*batch)))
	eg.yTV = tensor.New(tensor.WithShape(out, batch), tensor.WithBacking(make([]float32, out*batch)))
	eg.mTV = tensor.New(tensor.WithShape(out, batch), tensor.WithBacking(make([]float32, out*batch)))
	eg.scaleV = tensor.New(tensor.WithShape(1), tensor.WithBacking([]float32{0}))
	xT = G.NewMatrix(g, tensor.Float32, G.WithShape(in, batch), G.WithName(prefix+"xT"), G.WithValue(eg.xTV))
	yT = G.NewMatrix(g, tensor.Float32, G.WithShape(out, batch), G.WithName(prefix+"yT"), G.WithValue(eg.yTV))
	mT = G.NewMatrix(g, tensor.Float32, G.WithShape(out, batch), G.WithName(prefix+"maskT"), G.WithValue(eg.mTV))
	scale = G.NewVector(g, tensor.Float32, G.WithShape(1), G.WithName(prefix+"inv_count"), G.WithValue(eg.scaleV))
	return xT, yT, mT, scale
}

// maskedSquaredError builds sum(mask ⊙ (pred - y)²) * scale as a scalar.
func maskedSquaredError(pred, y, mask, scale *G.Node) (*G.Node, error) {
	d, err := G.Sub(pred, y)
	if err != nil {
		return nil, fmt.Errorf("train: masked MSE: difference: %w", err)
	}
	d2, err := G.Square(d)
	if err != nil {
		return nil, fmt.Errorf("train: masked MSE: square: %w", err)
	}
	md, err := G.HadamardProd(d2, mask)
	if err != nil {
		return nil, fmt.Errorf("train: masked MSE: mask: %w", err)
	}
	s, err := G.Sum(md)
	if err != nil {
		return nil, fmt.Errorf("train: masked MSE: sum: %w", err)
	}
	sc, err := G.Sum(scale)
	if err != nil {
		return nil, fmt.Errorf("train: masked MSE: scale: %w", err)
	}
	return G.Mul(s, sc)
}

// setBatch writes x (batch, in) and y (batch, out, NaN = missing) into the
// graph's transposed inputs, mask and 1/count; it reports false when no
// target is present.
func (eg *emulatorGraph) setBatch(x, y []float32) bool {
	xt := eg.xTV.Data().([]float32)
	for s := 0; s < eg.batch; s++ {
		for f := 0; f < eg.in; f++ {
			xt[f*eg.batch+s] = x[s*eg.in+f]
		}
	}
	yt := eg.yTV.Data().([]float32)
	mt := eg.mTV.Data().([]float32)
	count := 0
	for s := 0; s < eg.batch; s++ {
		for f := 0; f < eg.out; f++ {
			v := y[s*eg.out+f]
			if math.IsNaN(float64(v)) {
				yt[f*eg.batch+s], mt[f*eg.batch+s] = 0, 0
				continue
			}
			yt[f*eg.batch+s], mt[f*eg.batch+s] = v, 1
			count++
		}
	}
	if count == 0 {
		return false
	}
	eg.scaleV.Data().([]float32)[0] = 1 / float32(count)
	return true
}

// run computes the masked loss and the gradients of every parameter tensor
// (qParams.tensors order) for one batch. Gradients alias Gorgonia's buffers
// until the next run. ok is false (and nothing runs) when no target is present.
func (eg *emulatorGraph) run(x, y []float32) (loss float32, grads [][]float32, ok bool, err error) {
	if !eg.setBatch(x, y) {
		return 0, nil, false, nil
	}
	if eg.levels > 0 {
		eg.params.forwardRows(x, eg.batch, eg.levels, eg.acts, eg.resid)
	}
	if loss, grads, err = eg.lossTape.run(); err != nil {
		return 0, nil, false, fmt.Errorf("train: running the emulator graph: %w", err)
	}
	return loss, grads, true, nil
}
