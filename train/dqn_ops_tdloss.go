package train

import (
	"fmt"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// tdLossOp is the mean TD loss over the batch: with d = sum_a q ⊙ mask - target
// (mask the one-hot of the taken actions, so d = Q(s, a) - target), the mean
// of smooth_l1(d) (beta 1: d²/2 for |d| < 1, |d| - 1/2 beyond) or of d².
// Inputs q and mask are (actions, batch), target (batch); the output a scalar.
type tdLossOp struct {
	opBase
	huber          bool
	actions, batch int
	loss           *G.F32
}

func newTDLossOp(huber bool, actions, batch int) *tdLossOp {
	op := &tdLossOp{huber: huber, actions: actions, batch: batch, loss: G.NewF32(0)}
	op.self = op
	return op
}

func (op *tdLossOp) String() string {
	kind := "mse"
	if op.huber {
		kind = "huber"
	}
	return fmt.Sprintf("TDLoss[%s](actions=%d,batch=%d)", kind, op.actions, op.batch)
}

func (op *tdLossOp) Arity() int { return 3 }

func (op *tdLossOp) Type() hm.Type { return hm.NewFnType(f32Mat, f32Mat, f32Vec, tensor.Float32) }

func (op *tdLossOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.ScalarShape(), nil
}

// tdError returns d for sample s.
func tdError(q, mask, target []float32, actions, batch, s int) float32 {
	var qsa float32
	for a := 0; a < actions; a++ {
		qsa += float32(q[a*batch+s] * mask[a*batch+s])
	}
	return qsa - target[s]
}

// tdInputs checks and returns the q, mask and target inputs of op.
func tdInputs(op fmt.Stringer, v []G.Value, actions, batch int) (q, mask, target []float32, err error) {
	n := actions * batch
	if q, err = f32Data(op, 0, v[0], n); err != nil {
		return
	}
	if mask, err = f32Data(op, 1, v[1], n); err != nil {
		return
	}
	target, err = f32Data(op, 2, v[2], batch)
	return
}

func (op *tdLossOp) Do(v ...G.Value) (G.Value, error) {
	q, mask, target, err := tdInputs(op, v, op.actions, op.batch)
	if err != nil {
		return nil, err
	}
	// In float32 with the elementary graph's operations, so the reported
	// loss keeps its bits too: a = |d|, r = relu(a - 1), smooth_l1 =
	// 0.5 (a - r)² + r; the mean sums in order and divides by the batch.
	var total float32
	for s := 0; s < op.batch; s++ {
		d := tdError(q, mask, target, op.actions, op.batch, s)
		if !op.huber {
			total += float32(d * d) // the conversion keeps Go from fusing into an FMA
			continue
		}
		a := float32(math.Abs(float64(d)))
		r := max(a-1, 0)
		m := a - r
		total += float32(0.5*float32(m*m)) + r
	}
	*op.loss = G.F32(total / float32(op.batch))
	return op.loss, nil
}

// DiffWRT: only the Q-values; mask and targets are data.
func (op *tdLossOp) DiffWRT(int) []bool { return []bool{true, false, false} }

func (op *tdLossOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dq, err := G.ApplyOp(newTDLossGradOp(op.huber, op.actions, op.batch), inputs[0], inputs[1], inputs[2], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dq, nil, nil}, nil
}

// tdLossGradOp is the loss's gradient with respect to q, scaled by the
// incoming scalar gradient g: dq = g/batch · L'(d) · mask with L'(d) =
// clamp(d, -1, 1) for smooth_l1 and 2d for the squared error.
type tdLossGradOp struct {
	opBase
	notDifferentiable
	huber          bool
	actions, batch int
	dq             *tensor.Dense
	dqData         []float32
}

func newTDLossGradOp(huber bool, actions, batch int) *tdLossGradOp {
	op := &tdLossGradOp{huber: huber, actions: actions, batch: batch}
	op.opBase.self, op.notDifferentiable.self = op, op
	op.dq = newF32Dense(actions, batch)
	op.dqData = op.dq.Float32s()
	return op
}

func (op *tdLossGradOp) String() string {
	kind := "mse"
	if op.huber {
		kind = "huber"
	}
	return fmt.Sprintf("TDLossGrad[%s](actions=%d,batch=%d)", kind, op.actions, op.batch)
}

func (op *tdLossGradOp) Arity() int { return 4 }

func (op *tdLossGradOp) Type() hm.Type {
	return hm.NewFnType(f32Mat, f32Mat, f32Vec, tensor.Float32, f32Mat)
}

func (op *tdLossGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.actions, op.batch}, nil
}

func (op *tdLossGradOp) Do(v ...G.Value) (G.Value, error) {
	q, mask, target, err := tdInputs(op, v, op.actions, op.batch)
	if err != nil {
		return nil, err
	}
	g, err := scalarF32(op, 3, v[3])
	if err != nil {
		return nil, err
	}
	scale := g / float32(op.batch)
	B := op.batch
	for s := 0; s < B; s++ {
		d := tdError(q, mask, target, op.actions, B, s)
		if op.huber {
			d = min(max(d, -1), 1)
		} else {
			d *= 2
		}
		d *= scale
		for a := 0; a < op.actions; a++ {
			op.dqData[a*B+s] = d * mask[a*B+s]
		}
	}
	return op.dq, nil
}
