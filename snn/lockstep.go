package snn

import "unsafe"

// Lockstep batches: RunBatch simulates chunks of up to lockLanes samples
// together, one time step of the whole chunk at a time, with every sample a
// SIMD lane (structure of arrays: neuron-major rows of lockLanes values). A
// spike is a lane mask, and a layer adds, for every presynaptic neuron j and
// postsynaptic neuron o, W[o, j] masked by j's spikes: a dense pass instead of
// the per-sample spike lists, paid once per step for all the lanes and free of
// data-dependent branches.
//
// The results are bit-identical to the per-sample path: every membrane gets
// the same operations in the same order (positive input spikes in ascending
// order, then negative ones, then the next layers). The AVX kernels add
// masked-off terms that are exact identities: v - (+0) = v for every v,
// including -0, which is why positive spikes subtract the negated weight
// rather than add the weight. The AVX-512 kernels use merge masking (a
// masked-off lane is not written) and skip presynaptic neurons silent in all
// 16 lanes of a block. Spike counts are kept as floats in the lanes (exact
// while T <= 2^24).
//
// The kernels need AVX, or AVX-512 for the faster ones (lockstep_amd64.s,
// which describes both); elsewhere, for Poisson input (its random draws are
// made sample by sample) and with a Recorder, RunBatch takes the per-sample
// path.

const (
	// lockLanes is the chunk width: a multiple of every kernel's block
	// (AVX: 16 float64 or 32 float32 lanes, four registers; AVX-512: 16
	// lanes, and the float32 layer kernel takes two blocks at once).
	lockLanes = 32
	// lockMinBatch is the smallest batch worth a lockstep chunk; smaller ones
	// would spend most lanes on padding.
	lockMinBatch = 16
	// lockMaxSteps keeps float32 lane counts exact.
	lockMaxSteps = 1 << 24
)

// lockArgs is what a layer kernel reads (offsets fixed in lockstep_amd64.s,
// checked by TestLockstepLayouts). Rows are lanes values long.
type lockArgs struct {
	v     unsafe.Pointer // [out] rows: membranes
	drive unsafe.Pointer // [out] values (bias), or [out] rows with lockDriveLanes
	th    unsafe.Pointer // [out] thresholds
	wNeg  unsafe.Pointer // (in, out): -W^T, for positive spikes
	wPos  unsafe.Pointer // (in, out): W^T, for negative spikes
	pm    unsafe.Pointer // [in] rows: positive spike masks of the layer below
	nm    unsafe.Pointer // [in] rows: negative spike masks (input layer)
	fire  unsafe.Pointer // [out] rows: this layer's spike masks (written)
	count unsafe.Pointer // [out] rows: spike counts as floats
	in    int            // presynaptic rows to add (0: none)
	out   int
	lanes int
	leak  uint64 // bits of F (float32 in the low half)
	one   uint64 // bits of F(1)
	flags uint64
	list  unsafe.Pointer // AVX-512 kernels' scratch: 2*in words
}

const (
	lockDriveLanes = 1 << iota // drive holds one row per neuron (Analog drive of layer 0)
	lockIntegrator             // no threshold, no reset, no count
	lockResetZero
	lockSameStep // threshold after the presynaptic input, not before
	lockNegative // also subtract the columns of the negative masks nm
	lockLeaky    // v = leak*v + drive rather than v + drive
)

// lockEncArgs is what the Rate encoder kernel reads.
type lockEncArgs struct {
	enc   unsafe.Pointer // [in] rows: encoder membranes
	cur   unsafe.Pointer // [in] rows: Gain*x
	pm    unsafe.Pointer // [in] rows: positive spike masks (written)
	nm    unsafe.Pointer // [in] rows: negative spike masks (written with lockNegative)
	count unsafe.Pointer // [in] rows: input spike counts as floats
	in    int
	lanes int
	th    uint64 // bits of F
	negTh uint64 // bits of -th
	one   uint64
	flags uint64 // lockNegative
}

// lockstepOf is a state's lockstep scratch space, made by NewState.
type lockstepOf[F Float] struct {
	layers []lockArgs
	enc    lockEncArgs
	v      [][]F // per layer: [out] rows
	fire   [][]F
	count  [][]F
	drive  []F // [out of layer 0] rows
	encV   []F // [in] rows
	cur    []F
	pm, nm []F
	inCnt  []F
	// wide: the AVX-512 kernels, whose spike masks are uint16 lane bits per
	// (row, 16-lane block) in the *Bits slices rather than lane-wide masks.
	wide           bool
	pmBits, nmBits []uint16
	fireBits       [][]uint16
	lists          [][]uintptr
}

// newLockstep returns the scratch space for s, or nil where no kernel runs:
// with the AVX-512 kernels if wide (and they run here), else the AVX ones.
func newLockstep[F Float](n *NetworkOf[F], wide bool) *lockstepOf[F] {
	avx, avx512 := lockstepKernels()
	wide = wide && avx512
	if !avx && !wide {
		return nil
	}
	const L = lockLanes
	const blocks = L / 16
	in := n.InputSize()
	k := &lockstepOf[F]{wide: wide, drive: make([]F, n.layers[0].out*L), encV: make([]F, in*L), cur: make([]F, in*L),
		inCnt: make([]F, in*L)}
	one, minusOne := F(1), F(-1)
	k.enc = lockEncArgs{enc: ptr(k.encV), cur: ptr(k.cur), count: ptr(k.inCnt),
		in: in, lanes: L, th: bitsOf(n.Input.Threshold), negTh: bitsOf(minusOne * n.Input.Threshold), one: bitsOf(one)}
	if wide {
		k.pmBits, k.nmBits = make([]uint16, in*blocks), make([]uint16, in*blocks)
		k.enc.pm, k.enc.nm = unsafe.Pointer(&k.pmBits[0]), unsafe.Pointer(&k.nmBits[0])
	} else {
		k.pm, k.nm = make([]F, in*L), make([]F, in*L)
		k.enc.pm, k.enc.nm = ptr(k.pm), ptr(k.nm)
	}
	for l := range n.layers {
		c := &n.layers[l]
		k.v = append(k.v, make([]F, c.out*L))
		k.count = append(k.count, make([]F, c.out*L))
		a := lockArgs{v: ptr(k.v[l]), drive: ptr(c.bias), th: ptr(c.threshold), wNeg: ptr(c.negTransposed),
			wPos: ptr(c.transposed), count: ptr(k.count[l]),
			in: c.in, out: c.out, lanes: L, leak: bitsOf(c.leak), one: bitsOf(one)}
		if wide {
			k.fireBits = append(k.fireBits, make([]uint16, c.out*blocks))
			k.lists = append(k.lists, make([]uintptr, 2*c.in))
			a.fire, a.list = unsafe.Pointer(&k.fireBits[l][0]), unsafe.Pointer(&k.lists[l][0])
		} else {
			k.fire = append(k.fire, make([]F, c.out*L))
			a.fire = ptr(k.fire[l])
		}
		switch {
		case l > 0:
			a.pm = k.layers[l-1].fire
		case n.Input.Encoding == Analog:
			a.drive, a.in = ptr(k.drive), 0
			a.flags |= lockDriveLanes
		default:
			a.pm, a.nm = k.enc.pm, k.enc.nm
		}
		if c.integrator {
			a.flags |= lockIntegrator
		}
		if c.resetZero {
			a.flags |= lockResetZero
		}
		if n.Propagation == SameStep {
			a.flags |= lockSameStep
		}
		if c.leak != 1 {
			a.flags |= lockLeaky
		}
		k.layers = append(k.layers, a)
	}
	return k
}

func ptr[F Float](v []F) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(v)) }

// bitsOf returns the bits of x (a float32 in the low half).
func bitsOf[F Float](x F) uint64 {
	if unsafe.Sizeof(x) == 4 {
		return uint64(*(*uint32)(unsafe.Pointer(&x)))
	}
	return *(*uint64)(unsafe.Pointer(&x))
}

// lockstepFits says whether RunBatch may take the lockstep path.
func (n *NetworkOf[F]) lockstepFits(s *StateOf[F], batch, T int) bool {
	return s.lock != nil && batch >= lockMinBatch && T <= lockMaxSteps &&
		s.Recorder == nil && n.Input.Encoding != Poisson && !n.hasStrict()
}

// runLockstep is RunBatch's lockstep path; the arguments are valid.
func (n *NetworkOf[F]) runLockstep(s *StateOf[F], x []F, batch, T int, dst []F, actions []int) {
	k := s.lock
	in, out := n.InputSize(), n.OutputSize()
	const L = lockLanes
	rate := n.Input.Encoding == Rate
	for start := 0; start < batch; start += L {
		m := min(L, batch-start)
		negative := false
		if !s.CarryMembrane {
			k.initMembranes(n)
		}
		for lane := range L {
			sample := start + lane
			if lane >= m {
				k.padLane(n, lane)
				continue
			}
			xs := x[sample*in : (sample+1)*in]
			if s.CarryMembrane {
				n.begin(s, sample, xs)
				k.gatherMembranes(n, s, sample, lane)
			} else {
				// Membranes start at v(0), set for all lanes above; the
				// state's membranes and counts are written by scatter.
				n.prepareInput(s, xs)
			}
			negative = negative || s.negativeInput
			k.gatherInput(n, s, lane)
		}
		for l := range k.count {
			clear(k.count[l])
		}
		clear(k.inCnt)
		k.enc.flags = 0
		k.layers[0].flags &^= lockNegative
		if rate && negative {
			k.enc.flags = lockNegative
			k.layers[0].flags |= lockNegative
		}
		for range T {
			if rate {
				lockEncode[F](&k.enc, k.wide)
			}
			for l := range k.layers {
				lockLayer[F](&k.layers[l], k.wide)
			}
		}
		for lane := range m {
			sample := start + lane
			inputSpikes := k.scatter(n, s, sample, lane)
			var d []F
			if dst != nil {
				d = dst[sample*out : (sample+1)*out]
			}
			a := n.finish(s, sample, T, inputSpikes, d)
			if actions != nil {
				actions[sample] = a
			}
		}
	}
}

// initMembranes puts every lane at v(0), as StateOf.initMembranes.
func (k *lockstepOf[F]) initMembranes(n *NetworkOf[F]) {
	const L = lockLanes
	for l := range n.layers {
		rows := k.v[l]
		for o, v0 := range n.layers[l].initial {
			row := rows[o*L : (o+1)*L]
			for i := range row {
				row[i] = v0
			}
		}
	}
	v0 := n.Input.InitialMembrane * n.Input.Threshold
	for i := range k.encV {
		k.encV[i] = v0
	}
}

// gatherMembranes copies sample's starting membranes (carried, or at v(0))
// into lane.
func (k *lockstepOf[F]) gatherMembranes(n *NetworkOf[F], s *StateOf[F], sample, lane int) {
	const L = lockLanes
	for l := range n.layers {
		v := n.sampleMembrane(s, l, sample)
		rows := k.v[l]
		for o, x := range v {
			rows[o*L+lane] = x
		}
	}
	in := n.InputSize()
	enc := s.input[sample*in : (sample+1)*in]
	for j := range in {
		k.encV[j*L+lane] = enc[j]
	}
}

// gatherInput copies the constant input that prepareInput left in s into lane.
func (k *lockstepOf[F]) gatherInput(n *NetworkOf[F], s *StateOf[F], lane int) {
	const L = lockLanes
	switch n.Input.Encoding {
	case Analog:
		for o, x := range s.drive {
			k.drive[o*L+lane] = x
		}
	case Rate:
		for j, x := range s.current {
			k.cur[j*L+lane] = x
		}
	}
}

// padLane fills an unused lane with zeros (its results are dropped).
func (k *lockstepOf[F]) padLane(n *NetworkOf[F], lane int) {
	const L = lockLanes
	for l := range n.layers {
		for o := range n.layers[l].out {
			k.v[l][o*L+lane] = 0
		}
	}
	for o := range n.layers[0].out {
		k.drive[o*L+lane] = 0
	}
	for j := range n.InputSize() {
		k.encV[j*L+lane], k.cur[j*L+lane] = 0, 0
	}
}

// scatter copies lane's final membranes and counts into sample's slot of s
// and returns the sample's input spikes.
func (k *lockstepOf[F]) scatter(n *NetworkOf[F], s *StateOf[F], sample, lane int) int64 {
	const L = lockLanes
	for l := range n.layers {
		v, counts := n.sampleMembrane(s, l, sample), n.sampleCounts(s, l, sample)
		rows, cnt := k.v[l], k.count[l]
		for o := range v {
			v[o] = rows[o*L+lane]
			counts[o] = int32(cnt[o*L+lane])
		}
	}
	in := n.InputSize()
	var inputSpikes int64
	if n.Input.Encoding == Rate {
		enc := s.input[sample*in : (sample+1)*in]
		for j := range in {
			enc[j] = k.encV[j*L+lane]
			inputSpikes += int64(k.inCnt[j*L+lane])
		}
	}
	return inputSpikes
}

// lockstepAVXMaxWidth is the widest layer for which the AVX (not AVX-512)
// lockstep kernel beats the per-sample path. Its masked adds touch every
// weight, the event-driven per-sample path only those of spiking neurons:
// measured (BenchmarkLockstepKernels, ns/decision) AVX 2,527 vs per-sample
// 9,351 on ff (16-wide layers), but 6,655 vs 6,181 on 4-64-64-2. The
// threshold between those two is a judgement, not a measurement.
const lockstepAVXMaxWidth = 32

// lockstepPays reports whether RunBatch should use a lockstep kernel for n
// on this machine: always with AVX-512, with AVX only for narrow networks.
func lockstepPays[F Float](n *NetworkOf[F]) bool {
	avx, avx512 := lockstepKernels()
	return lockstepPaysOn(n, avx, avx512)
}

func lockstepPaysOn[F Float](n *NetworkOf[F], avx, avx512 bool) bool {
	if avx512 {
		return true
	}
	if !avx {
		return false
	}
	for _, l := range n.layers {
		if l.out > lockstepAVXMaxWidth {
			return false
		}
	}
	return true
}

// BatchKernel names what RunBatch runs on this machine for batches of 16 or
// more samples (Analog or Rate input, no Recorder): "avx512" or "avx" for the
// lockstep kernels, "per-sample" where neither runs. Without AVX-512, networks
// with a layer wider than 32 neurons also run per sample (see lockstepPays).
func BatchKernel() string {
	switch avx, avx512 := lockstepKernels(); {
	case avx512:
		return "avx512"
	case avx:
		return "avx"
	}
	return "per-sample"
}
