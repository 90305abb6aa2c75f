package train

// batchForward computes a qParams MLP's Q-values for a batch in plain Go,
// in the graph's transposed layout (one model.VecMat per output row over
// the whole batch, rather than per sample): the target network's values,
// and the online network's next-state values for Double DQN. It gives the
// same bits as model.Network.Forward on each sample (TestBatchForwardMatchesModel)
// and reads qParams directly, so it needs no refresh after a parameter change.
type batchForward struct {
	sizes  []int
	batch  int
	xT     []float32    // (in, batch)
	hidden [2][]float32 // ping-pong activations, (width, batch)
	outT   []float32    // (actions, batch)
}

func newBatchForward(sizes []int, batch int) *batchForward {
	f := &batchForward{sizes: sizes, batch: batch}
	widest := 0
	for _, s := range sizes[1 : len(sizes)-1] {
		widest = max(widest, s)
	}
	f.xT = make([]float32, sizes[0]*batch)
	f.hidden[0] = make([]float32, widest*batch)
	f.hidden[1] = make([]float32, widest*batch)
	f.outT = make([]float32, sizes[len(sizes)-1]*batch)
	return f
}

// run writes p's Q-values for the batch x (batch, in) row-major into dst
// (batch, actions) row-major.
func (f *batchForward) run(dst []float32, p *qParams, x []float32) {
	B, last := f.batch, len(f.sizes)-2
	transposeInto(f.xT, x, B, f.sizes[0])
	cur := f.xT
	for l := 0; l <= last; l++ {
		in, out := f.sizes[l], f.sizes[l+1]
		y := f.outT
		if l < last {
			y = f.hidden[l%2][:out*B]
		}
		denseForwardT(y, p.weights[l], p.biases[l], cur, in, out, B, l < last)
		cur = y
	}
	transposeInto(dst, f.outT, f.sizes[last+1], B)
}
