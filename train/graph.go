package train

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// lossGraph is the Gorgonia graph of one DQN loss and its gradients for a
// fixed batch size, built once and rerun every update.
//
// The forward pass is one fused op per layer (denseOp: W x + b and the ReLU)
// and one for the loss (tdLossOp, which selects Q(s, a) with a one-hot mask,
// so no ByIndices); G.Grad differentiates the graph through the ops'
// SymDiff into a handful of fused gradient ops (dqn_ops*.go). It works in the
// transposed layout h = W x (features along rows, samples along columns) so
// the weight nodes are backed by the very (out, in) row-major slices of
// qParams: no copies between the optimiser, the graph and the plain-Go
// acting network. Inputs are written into the backing slices of tensors
// bound once at build time; every op writes into its own preallocated
// output, so an update allocates nothing.
//
// The graph runs on a graphRunner (graph_exec.go) rather than on a
// TapeMachine: TapeMachine.RunAll locks the OS thread and hands the program
// to a new goroutine every call, which costs more than this whole graph's
// arithmetic (BenchmarkLossGraph compares the two). useTape switches to
// the TapeMachine (tests check both give the same bits).
type lossGraph struct {
	batch   int
	g       *G.ExprGraph
	obsT    *G.Node // (in, batch)
	maskT   *G.Node // (actions, batch): one-hot of the taken action
	target  *G.Node // (batch): TD targets, computed outside the graph
	loss    *G.Node
	grads   G.Nodes // in qParams.tensors order
	obsTV   []float32
	maskTV  []float32
	targetV []float32
	runner  *graphRunner
	useTape bool
	tape    G.VM // made on first use
	gradBuf [][]float32
}

// newLossGraph builds the graph for params with the given loss ("huber" or "mse").
func newLossGraph(params *qParams, batch int, loss string) (*lossGraph, error) {
	if loss != "huber" && loss != "mse" {
		return nil, fmt.Errorf("train: graph loss: unknown loss %q (want huber or mse)", loss)
	}
	sizes := params.sizes
	in, actions := sizes[0], sizes[len(sizes)-1]
	lg := &lossGraph{batch: batch, g: G.NewGraph()}
	g := lg.g
	obsTV, maskTV, targetV := newF32Dense(in, batch), newF32Dense(actions, batch), newF32Dense(batch)
	lg.obsTV, lg.maskTV, lg.targetV = obsTV.Float32s(), maskTV.Float32s(), targetV.Float32s()
	lg.obsT = G.NewMatrix(g, tensor.Float32, G.WithShape(in, batch), G.WithName("obsT"), G.WithValue(obsTV))
	lg.maskT = G.NewMatrix(g, tensor.Float32, G.WithShape(actions, batch), G.WithName("maskT"), G.WithValue(maskTV))
	lg.target = G.NewVector(g, tensor.Float32, G.WithShape(batch), G.WithName("target"), G.WithValue(targetV))

	var learnables G.Nodes
	h := lg.obsT
	nLayers := len(sizes) - 1
	for l := 0; l < nLayers; l++ {
		out, lin := sizes[l+1], sizes[l]
		wv := tensor.New(tensor.WithShape(out, lin), tensor.WithBacking(params.weights[l]))
		bv := tensor.New(tensor.WithShape(out), tensor.WithBacking(params.biases[l]))
		w := G.NewMatrix(g, tensor.Float32, G.WithShape(out, lin), G.WithName(fmt.Sprintf("W%d", l+1)), G.WithValue(wv))
		b := G.NewVector(g, tensor.Float32, G.WithShape(out), G.WithName(fmt.Sprintf("b%d", l+1)), G.WithValue(bv))
		learnables = append(learnables, w, b)
		op := newDenseOp(fmt.Sprintf("fc%d", l+1), lin, out, batch, l < nLayers-1, l > 0)
		var err error
		if h, err = G.ApplyOp(op, h, w, b); err != nil {
			return nil, fmt.Errorf("train: graph layer %d: %w", l+1, err)
		}
	}
	var err error
	if lg.loss, err = G.ApplyOp(newTDLossOp(loss == "huber", actions, batch), h, lg.maskT, lg.target); err != nil {
		return nil, fmt.Errorf("train: graph loss: %w", err)
	}
	if lg.grads, err = G.Grad(lg.loss, learnables...); err != nil {
		return nil, fmt.Errorf("train: graph gradients: %w", err)
	}
	if lg.runner, err = newGraphRunner(g, append(G.Nodes{lg.loss}, lg.grads...)); err != nil {
		return nil, err
	}
	lg.gradBuf = make([][]float32, len(lg.grads))
	return lg, nil
}

// run computes the loss and gradients for the inputs already written by
// setInputs. The returned gradient slices alias the graph's buffers and are
// valid until the next run; they follow qParams.tensors order.
func (lg *lossGraph) run() (float32, [][]float32, error) {
	var outs []G.Value
	if lg.useTape {
		if lg.tape == nil {
			lg.tape = G.NewTapeMachine(lg.g)
		}
		lg.tape.Reset()
		if err := lg.tape.RunAll(); err != nil {
			return 0, nil, fmt.Errorf("train: running the loss graph: %w", err)
		}
		outs = lg.runner.outs
		outs[0] = lg.loss.Value()
		for i, gn := range lg.grads {
			outs[i+1] = gn.Value()
		}
	} else {
		var err error
		if outs, err = lg.runner.run(); err != nil {
			return 0, nil, fmt.Errorf("train: running the loss graph: %w", err)
		}
	}
	loss, err := scalarF32(lg.loss, 0, outs[0])
	if err != nil {
		return 0, nil, err
	}
	for i, v := range outs[1:] {
		d, ok := v.(*tensor.Dense)
		if !ok || d.Dtype() != tensor.Float32 {
			return 0, nil, fmt.Errorf("train: gradient %v is %T, want a float32 tensor", lg.grads[i], v)
		}
		lg.gradBuf[i] = d.Float32s()
	}
	return loss, lg.gradBuf, nil
}

// setInputs writes a batch (obs row-major (batch, in)) into the graph's
// transposed inputs, the one-hot action mask and the targets.
func (lg *lossGraph) setInputs(obs []float32, actions []int, targets []float32) {
	transposeInto(lg.obsTV, obs, lg.batch, len(obs)/lg.batch)
	mt := lg.maskTV
	clear(mt)
	for s, a := range actions {
		mt[a*lg.batch+s] = 1
	}
	copy(lg.targetV, targets)
}
