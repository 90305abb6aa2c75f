package train

import G "gorgonia.org/gorgonia"

// lossTape is a compiled Gorgonia loss graph, as the emulator trainers
// use it: the loss read back after every run, the gradient nodes of the
// learnables and the tape machine that computes both.
type lossTape struct {
	vm      G.VM
	lossVal G.Value
	grads   G.Nodes
	gradBuf [][]float32
}

// compile reads loss back, differentiates it by learnables and builds g's
// tape machine, in that order (the order fixes the tape's program).
func (lt *lossTape) compile(g *G.ExprGraph, loss *G.Node, learnables ...*G.Node) error {
	G.Read(loss, &lt.lossVal)
	grads, err := G.Grad(loss, learnables...)
	if err != nil {
		return err
	}
	lt.grads = grads
	lt.vm = G.NewTapeMachine(g)
	lt.gradBuf = make([][]float32, len(grads))
	return nil
}

// run runs the tape once and returns the loss and the gradients of the
// learnables, in compile's order; the gradients alias Gorgonia's buffers
// until the next run.
func (lt *lossTape) run() (float32, [][]float32, error) {
	lt.vm.Reset()
	if err := lt.vm.RunAll(); err != nil {
		return 0, nil, err
	}
	for i, gn := range lt.grads {
		lt.gradBuf[i] = gn.Value().Data().([]float32)
	}
	return lt.lossVal.Data().(float32), lt.gradBuf, nil
}
