package train

// The elementary-op loss graph that train/graph.go used before issue 19: the
// same loss from Gorgonia's own Mul, BroadcastAdd, Rectify, HadamardProd, Sum,
// Abs and Mean, differentiated by G.Grad and run on a TapeMachine. Tests use it
// as an independent reference for the fused-op graph.

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// elemLossGraph is the elementary-op Gorgonia graph of one DQN loss and its
// gradients for a fixed batch size, run on a TapeMachine.
//
// It works in the transposed layout h = W x (features along rows, samples
// along columns) so the weight nodes are backed by the very (out, in)
// row-major slices of qParams: no copies between the optimiser, the graph
// and the plain-Go acting network. Q(s, a) is selected with a one-hot mask
// and a sum over the action axis (ByIndices gives wrong gradients on the
// innermost axis in Gorgonia v0.9.18).
type elemLossGraph struct {
	batch   int
	g       *G.ExprGraph
	vm      G.VM
	obsT    *G.Node // (in, batch)
	maskT   *G.Node // (actions, batch): one-hot of the taken action
	target  *G.Node // (batch): TD targets, computed outside the graph
	loss    *G.Node
	grads   G.Nodes
	obsTV   *tensor.Dense
	maskTV  *tensor.Dense
	targetV *tensor.Dense
	lossVal G.Value // bound with G.Read
	gradBuf [][]float32
}

// newElemLossGraph builds the graph for params with the given loss ("huber" or "mse").
func newElemLossGraph(params *qParams, batch int, loss string) (*elemLossGraph, error) {
	sizes := params.sizes
	in, actions := sizes[0], sizes[len(sizes)-1]
	lg := &elemLossGraph{batch: batch, g: G.NewGraph()}
	g := lg.g
	lg.obsTV = tensor.New(tensor.WithShape(in, batch), tensor.WithBacking(make([]float32, in*batch)))
	lg.maskTV = tensor.New(tensor.WithShape(actions, batch), tensor.WithBacking(make([]float32, actions*batch)))
	lg.targetV = tensor.New(tensor.WithShape(batch), tensor.WithBacking(make([]float32, batch)))
	lg.obsT = G.NewMatrix(g, tensor.Float32, G.WithShape(in, batch), G.WithName("obsT"), G.WithValue(lg.obsTV))
	lg.maskT = G.NewMatrix(g, tensor.Float32, G.WithShape(actions, batch), G.WithName("maskT"), G.WithValue(lg.maskTV))
	lg.target = G.NewVector(g, tensor.Float32, G.WithShape(batch), G.WithName("target"), G.WithValue(lg.targetV))

	var learnables G.Nodes
	h := lg.obsT
	nLayers := len(sizes) - 1
	for l := 0; l < nLayers; l++ {
		out, lin := sizes[l+1], sizes[l]
		wv := tensor.New(tensor.WithShape(out, lin), tensor.WithBacking(params.weights[l]))
		bv := tensor.New(tensor.WithShape(out, 1), tensor.WithBacking(params.biases[l]))
		w := G.NewMatrix(g, tensor.Float32, G.WithShape(out, lin), G.WithName(fmt.Sprintf("W%d", l+1)), G.WithValue(wv))
		b := G.NewMatrix(g, tensor.Float32, G.WithShape(out, 1), G.WithName(fmt.Sprintf("b%d", l+1)), G.WithValue(bv))
		learnables = append(learnables, w, b)
		z, err := G.Mul(w, h)
		if err != nil {
			return nil, fmt.Errorf("train: graph layer %d: W x: %w", l+1, err)
		}
		if h, err = G.BroadcastAdd(z, b, nil, []byte{1}); err != nil {
			return nil, fmt.Errorf("train: graph layer %d: + b: %w", l+1, err)
		}
		if l < nLayers-1 {
			if h, err = G.Rectify(h); err != nil {
				return nil, fmt.Errorf("train: graph layer %d: relu: %w", l+1, err)
			}
		}
	}
	qsaAll, err := G.HadamardProd(h, lg.maskT)
	if err != nil {
		return nil, fmt.Errorf("train: graph Q mask: %w", err)
	}
	qsa, err := G.Sum(qsaAll, 0)
	if err != nil {
		return nil, fmt.Errorf("train: graph Q(s,a): %w", err)
	}
	d, err := G.Sub(qsa, lg.target)
	if err != nil {
		return nil, fmt.Errorf("train: graph TD error: %w", err)
	}
	var perSample *G.Node
	switch loss {
	case "mse":
		perSample, err = G.Square(d)
	case "huber":
		perSample, err = elemHuber(d)
	default:
		err = fmt.Errorf("unknown loss %q (want huber or mse)", loss)
	}
	if err != nil {
		return nil, fmt.Errorf("train: graph loss: %w", err)
	}
	if lg.loss, err = G.Mean(perSample); err != nil {
		return nil, fmt.Errorf("train: graph mean loss: %w", err)
	}
	G.Read(lg.loss, &lg.lossVal)
	if lg.grads, err = G.Grad(lg.loss, learnables...); err != nil {
		return nil, fmt.Errorf("train: graph gradients: %w", err)
	}
	lg.vm = G.NewTapeMachine(g)
	lg.gradBuf = make([][]float32, len(lg.grads))
	return lg, nil
}

// huber is smooth_l1 with beta 1 from elementary ops: with a = |d| and
// r = relu(a - 1), min(a, 1) = a - r, so huber = 0.5 (a - r)² + r.
func elemHuber(d *G.Node) (*G.Node, error) {
	a, err := G.Abs(d)
	if err != nil {
		return nil, err
	}
	one := G.NewConstant(float32(1), G.WithName("huber_one"))
	half := G.NewConstant(float32(0.5), G.WithName("huber_half"))
	excess, err := G.Sub(a, one)
	if err != nil {
		return nil, err
	}
	r, err := G.Rectify(excess)
	if err != nil {
		return nil, err
	}
	m, err := G.Sub(a, r)
	if err != nil {
		return nil, err
	}
	m2, err := G.Square(m)
	if err != nil {
		return nil, err
	}
	quad, err := G.HadamardProd(half, m2)
	if err != nil {
		return nil, err
	}
	return G.Add(quad, r)
}

// run computes the loss and gradients for the inputs already written into
// obsTV, maskTV and targetV; the gradients are copies, in qParams.tensors order.
func (lg *elemLossGraph) run() (float32, [][]float32, error) {
	lg.vm.Reset()
	if err := lg.vm.RunAll(); err != nil {
		return 0, nil, fmt.Errorf("train: running the loss graph: %w", err)
	}
	for i, gn := range lg.grads {
		lg.gradBuf[i] = append([]float32(nil), gn.Value().Data().([]float32)...)
	}
	return lg.lossVal.Data().(float32), lg.gradBuf, nil
}

// setInputs writes a batch (obs row-major (batch, in)) into the graph's
// transposed inputs, the one-hot action mask and the targets.
func (lg *elemLossGraph) setInputs(obs []float32, actions []int, targets []float32) {
	in := len(obs) / lg.batch
	ot := lg.obsTV.Data().([]float32)
	for s := 0; s < lg.batch; s++ {
		for f := 0; f < in; f++ {
			ot[f*lg.batch+s] = obs[s*in+f]
		}
	}
	mt := lg.maskTV.Data().([]float32)
	clear(mt)
	for s, a := range actions {
		mt[a*lg.batch+s] = 1
	}
	copy(lg.targetV.Data().([]float32), targets)
}
