package train

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// reluGradOp is dz = dy ⊙ [z >= 0] for y = Rectify(z) as
// addBiasRectifyGorgonia computes it, read from y's sign bit (y is +0 or
// positive exactly where z >= 0, as the pre-activation z = W x + b is never
// -0). That is the derivative Gorgonia's Rectify has.
type reluGradOp struct {
	opBase
	notDifferentiable
	name     string
	n, batch int
	dz       *tensor.Dense
	dzData   []float32
}

func newReluGradOp(name string, n, batch int) *reluGradOp {
	op := &reluGradOp{name: name, n: n, batch: batch}
	op.opBase.self, op.notDifferentiable.self = op, op
	op.dz = newF32Dense(n, batch)
	op.dzData = op.dz.Float32s()
	return op
}

func (op *reluGradOp) String() string {
	return fmt.Sprintf("ReluGrad[%s](%dx%d)", op.name, op.n, op.batch)
}

func (op *reluGradOp) Arity() int { return 2 }

func (op *reluGradOp) Type() hm.Type { return hm.NewFnType(f32Mat, f32Mat, f32Mat) }

func (op *reluGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.n, op.batch}, nil
}

func (op *reluGradOp) Do(v ...G.Value) (G.Value, error) {
	y, err := f32Data(op, 0, v[0], op.n*op.batch)
	if err != nil {
		return nil, err
	}
	dy, err := f32Data(op, 1, v[1], op.n*op.batch)
	if err != nil {
		return nil, err
	}
	dz := op.dzData[:len(y)]
	dy = dy[:len(y)]
	for i, yi := range y {
		// Keep dy where y's sign bit is clear, without a branch (the signs
		// are random: a branch would mispredict on every other element).
		keep := ^uint32(int32(math.Float32bits(yi)) >> 31)
		dz[i] = math.Float32frombits(math.Float32bits(dy[i]) & keep)
	}
	return op.dz, nil
}

// weightGradOp is dW = dz xᵀ: dz (out, batch), x (in, batch), dW (out, in),
// with the bits of the call Gorgonia's MatMul gradient made to its BLAS
// (G.WhichBLAS, gonum's by default: one DotUnitary per element): x is
// transposed into scratch and each row of dW is one dotsUnitaryOrder, eight
// outputs at a time. Where gonum's result would depend on more than that
// order (rows not 16-byte aligned, so DotUnitary peels; or a product big
// enough for its parallel blocking along the batch) the BLAS itself runs.
type weightGradOp struct {
	opBase
	notDifferentiable
	name           string
	in, out, batch int
	xT             []float32 // (batch, in)
	dw             *tensor.Dense
	dwData         []float32
}

func newWeightGradOp(name string, in, out, batch int) *weightGradOp {
	op := &weightGradOp{name: name, in: in, out: out, batch: batch, xT: make([]float32, batch*in)}
	op.opBase.self, op.notDifferentiable.self = op, op
	op.dw = newF32Dense(out, in)
	op.dwData = op.dw.Float32s()
	return op
}

func (op *weightGradOp) String() string {
	return fmt.Sprintf("WeightGrad[%s](%d->%d,batch=%d)", op.name, op.in, op.out, op.batch)
}

func (op *weightGradOp) Arity() int { return 2 }

func (op *weightGradOp) Type() hm.Type { return hm.NewFnType(f32Mat, f32Mat, f32Mat) }

func (op *weightGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.out, op.in}, nil
}

func (op *weightGradOp) Do(v ...G.Value) (G.Value, error) {
	dz, err := f32Data(op, 0, v[0], op.out*op.batch)
	if err != nil {
		return nil, err
	}
	x, err := f32Data(op, 1, v[1], op.in*op.batch)
	if err != nil {
		return nil, err
	}
	B := op.batch
	blocks := func(n int) int { return (n + 63) / 64 } // gonum's GEMM block size
	serial := B <= 64 || blocks(op.out)*blocks(op.in) < 4
	if B%4 == 0 && uintptr(unsafe.Pointer(&x[0]))%16 == 0 && serial {
		transposeInto(op.xT, x, op.in, B)
		for o := 0; o < op.out; o++ {
			dotsUnitaryOrder(op.dwData[o*op.in:(o+1)*op.in], dz[o*B:(o+1)*B], op.xT)
		}
		return op.dw, nil
	}
	// 'N', 'T': blas.NoTrans, blas.Trans (gonum's blas.Transpose constants).
	G.WhichBLAS().Sgemm('N', 'T', op.out, op.in, B, 1, dz, B, x, B, 0, op.dwData, op.in)
	return op.dw, nil
}

// rowSumOp is db = dz summed over the batch in order: dz (n, batch), db (n).
type rowSumOp struct {
	opBase
	notDifferentiable
	name     string
	n, batch int
	db       *tensor.Dense
	dbData   []float32
}

func newRowSumOp(name string, n, batch int) *rowSumOp {
	op := &rowSumOp{name: name, n: n, batch: batch}
	op.opBase.self, op.notDifferentiable.self = op, op
	op.db = newF32Dense(n)
	op.dbData = op.db.Float32s()
	return op
}

func (op *rowSumOp) String() string {
	return fmt.Sprintf("RowSum[%s](%dx%d)", op.name, op.n, op.batch)
}

func (op *rowSumOp) Arity() int { return 1 }

func (op *rowSumOp) Type() hm.Type { return hm.NewFnType(f32Mat, f32Vec) }

func (op *rowSumOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.n}, nil
}

func (op *rowSumOp) Do(v ...G.Value) (G.Value, error) {
	dz, err := f32Data(op, 0, v[0], op.n*op.batch)
	if err != nil {
		return nil, err
	}
	rowSums(op.dbData, dz, op.batch)
	return op.db, nil
}

// rowSums writes the sum of each row of the (len(dst), cols) matrix m into
// dst, each in order from zero as Gorgonia's Sum along an axis adds. Four
// rows go side by side, so four independent chains hide the add latency.
func rowSums(dst, m []float32, cols int) {
	r := 0
	for ; r+4 <= len(dst); r += 4 {
		m0 := m[r*cols : (r+1)*cols]
		m1 := m[(r+1)*cols : (r+2)*cols][:len(m0)]
		m2 := m[(r+2)*cols : (r+3)*cols][:len(m0)]
		m3 := m[(r+3)*cols : (r+4)*cols][:len(m0)]
		var s0, s1, s2, s3 float32
		for c, v := range m0 {
			s0 += v
			s1 += m1[c]
			s2 += m2[c]
			s3 += m3[c]
		}
		dst[r], dst[r+1], dst[r+2], dst[r+3] = s0, s1, s2, s3
	}
	for ; r < len(dst); r++ {
		var s float32
		for _, v := range m[r*cols : (r+1)*cols] {
			s += v
		}
		dst[r] = s
	}
}

// inputGradOp is dx = Wᵀ dz: W (out, in), dz (out, batch), dx (in, batch).
// W is transposed into scratch so each row of dx is one vecMatUnfused (the
// order of the BLAS's Aᵀ B).
type inputGradOp struct {
	opBase
	notDifferentiable
	name           string
	in, out, batch int
	wT             []float32 // (in, out)
	dx             *tensor.Dense
	dxData         []float32
}

func newInputGradOp(name string, in, out, batch int) *inputGradOp {
	op := &inputGradOp{name: name, in: in, out: out, batch: batch, wT: make([]float32, in*out)}
	op.opBase.self, op.notDifferentiable.self = op, op
	op.dx = newF32Dense(in, batch)
	op.dxData = op.dx.Float32s()
	return op
}

func (op *inputGradOp) String() string {
	return fmt.Sprintf("InputGrad[%s](%d->%d,batch=%d)", op.name, op.in, op.out, op.batch)
}

func (op *inputGradOp) Arity() int { return 2 }

func (op *inputGradOp) Type() hm.Type { return hm.NewFnType(f32Mat, f32Mat, f32Mat) }

func (op *inputGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.in, op.batch}, nil
}

func (op *inputGradOp) Do(v ...G.Value) (G.Value, error) {
	w, err := f32Data(op, 0, v[0], op.out*op.in)
	if err != nil {
		return nil, err
	}
	dz, err := f32Data(op, 1, v[1], op.out*op.batch)
	if err != nil {
		return nil, err
	}
	transposeInto(op.wT, w, op.out, op.in)
	B := op.batch
	for i := 0; i < op.in; i++ {
		vecMatUnfused(op.dxData[i*B:(i+1)*B], op.wT[i*op.out:(i+1)*op.out], dz)
	}
	return op.dx, nil
}
