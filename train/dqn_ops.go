package train

import (
	"fmt"
	"hash"
	"hash/fnv"
	"math"
	"unsafe"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/spikebridge/spikebridge/model"
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

func (op *denseOp) Arity() int    { return 3 }
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
func (op *reluGradOp) Arity() int    { return 2 }
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
func (op *weightGradOp) Arity() int    { return 2 }
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
func (op *rowSumOp) Arity() int    { return 1 }
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
func (op *inputGradOp) Arity() int    { return 2 }
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
func (op *tdLossOp) Arity() int    { return 3 }
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
