package train

import (
	"fmt"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/spikebridge/spikebridge/model"
)

// transposeInto writes the (rows, cols) row-major src transposed into dst
// (cols, rows), four source rows at a time (four contiguous stores each).
func transposeInto(dst, src []float32, rows, cols int) {
	dst = dst[:rows*cols]
	r := 0
	for ; r+4 <= rows; r += 4 {
		s0 := src[r*cols : (r+1)*cols]
		s1 := src[(r+1)*cols:][:len(s0)]
		s2 := src[(r+2)*cols:][:len(s0)]
		s3 := src[(r+3)*cols:][:len(s0)]
		for c, v := range s0 {
			d := dst[c*rows+r:][:4]
			d[0], d[1], d[2], d[3] = v, s1[c], s2[c], s3[c]
		}
	}
	for ; r < rows; r++ {
		for c, v := range src[r*cols : (r+1)*cols] {
			dst[c*rows+r] = v
		}
	}
}

// denseOp is one layer: y = act(W x + b) with x (in, batch), W (out, in),
// b (out) and y (out, batch); act is ReLU or the identity.
type denseOp struct {
	opBase
	name           string // layer name, part of the hash
	in, out, batch int
	relu           bool
	inputNeedsGrad bool // false for the first layer: the observations need no gradient
	y              *tensor.Dense
	yData          []float32
}

func newDenseOp(name string, in, out, batch int, relu, inputNeedsGrad bool) *denseOp {
	op := &denseOp{name: name, in: in, out: out, batch: batch, relu: relu, inputNeedsGrad: inputNeedsGrad}
	op.self = op
	op.y = newF32Dense(out, batch)
	op.yData = op.y.Float32s()
	return op
}

func (op *denseOp) String() string {
	act := "id"
	if op.relu {
		act = "relu"
	}
	return fmt.Sprintf("Dense[%s](%d->%d,batch=%d,%s,dx=%v)", op.name, op.in, op.out, op.batch, act, op.inputNeedsGrad)
}

func (op *denseOp) Arity() int { return 3 }

func (op *denseOp) Type() hm.Type { return hm.NewFnType(f32Mat, f32Mat, f32Vec, f32Mat) }

func (op *denseOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.out, op.batch}, nil
}

func (op *denseOp) Do(v ...G.Value) (G.Value, error) {
	x, err := f32Data(op, 0, v[0], op.in*op.batch)
	if err != nil {
		return nil, err
	}
	w, err := f32Data(op, 1, v[1], op.out*op.in)
	if err != nil {
		return nil, err
	}
	b, err := f32Data(op, 2, v[2], op.out)
	if err != nil {
		return nil, err
	}
	B := op.batch
	for o := 0; o < op.out; o++ {
		row := op.yData[o*B : (o+1)*B]
		vecMatUnfused(row, w[o*op.in:(o+1)*op.in], x)
		if op.relu {
			addBiasRectifyGorgonia(row, b[o])
			continue
		}
		for s := range row {
			row[s] += b[o]
		}
	}
	return op.y, nil
}

// addBiasRectifyGorgonia adds bias to v and applies Gorgonia's Rectify,
// x ⊙ [x >= 0]: x where x >= 0 and -0 (x times +0) where x < 0, without a
// branch, in one pass. Keeping the sign of zero lets reluGradOp recover
// [x >= 0] from the output alone.
func addBiasRectifyGorgonia(v []float32, bias float32) {
	for i, x := range v {
		u := math.Float32bits(x + bias)
		neg := uint32(int32(u) >> 31) // all ones where the sign bit is set
		v[i] = math.Float32frombits(u &^ (neg & 0x7fffffff))
	}
}

// denseForwardT computes y = act(W x + b) for x (in, batch), W (out, in),
// b (out), y (out, batch). Each output is the FMA chain over the inputs in
// order from zero with the bias added last, as model.Network's Forward does
// for one sample, so the two give the same bits.
func denseForwardT(y, w, b, x []float32, in, out, batch int, relu bool) {
	for o := 0; o < out; o++ {
		row := y[o*batch : (o+1)*batch]
		model.VecMat(row, w[o*in:(o+1)*in], x)
		bo := b[o]
		if relu {
			for s, z := range row {
				row[s] = max(z+bo, 0)
			}
		} else {
			for s := range row {
				row[s] += bo
			}
		}
	}
}

// DiffWRT: W and b always; x unless it is the network's input.
func (op *denseOp) DiffWRT(int) []bool { return []bool{op.inputNeedsGrad, true, true} }

// SymDiff: with dz = dy ⊙ [y > 0] (ReLU) or dy (identity),
// dW = dz xᵀ, db = dz summed over the batch, dx = Wᵀ dz.
func (op *denseOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	x, w := inputs[0], inputs[1]
	dz := grad
	var err error
	if op.relu {
		if dz, err = G.ApplyOp(newReluGradOp(op.name, op.out, op.batch), output, grad); err != nil {
			return nil, err
		}
	}
	dw, err := G.ApplyOp(newWeightGradOp(op.name, op.in, op.out, op.batch), dz, x)
	if err != nil {
		return nil, err
	}
	db, err := G.ApplyOp(newRowSumOp(op.name, op.out, op.batch), dz)
	if err != nil {
		return nil, err
	}
	var dx *G.Node
	if op.inputNeedsGrad {
		if dx, err = G.ApplyOp(newInputGradOp(op.name, op.in, op.out, op.batch), w, dz); err != nil {
			return nil, err
		}
	}
	return G.Nodes{dx, dw, db}, nil
}
