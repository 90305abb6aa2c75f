package snn

// addColumnsSSE is addColumns for float32 in SSE assembly (addcols_amd64.s);
// SSE is part of the amd64 baseline, so no feature check is needed.
//
//go:noescape
func addColumnsSSE(v, wt []float32, spikes []int32)

// addColumns32 adds column j of the (in, out) matrix wt to v for every spike j
// of an ascending list, bit-identical to the generic addColumns.
func addColumns32(v, wt []float32, spikes []int32) {
	if len(v) == 0 || len(spikes) == 0 {
		return
	}
	// Spike lists are ascending (fire makes them so), so checking the last
	// index bounds them all; the assembly reads wt unchecked.
	in := len(wt) / len(v)
	if uint32(spikes[len(spikes)-1]) >= uint32(in) || uint32(spikes[0]) >= uint32(in) {
		panic("snn: addColumns: spike index outside the weight matrix")
	}
	addColumnsSSE(v, wt, spikes)
}

//go:noescape
func integrateFireSSE(v, drive, threshold []float32, leak float32, spikes []int32) int

// integrateAndFire32 is integrateAndFire for float32 with the bulk of the
// layer in SSE, bit-identical to the generic loop.
func integrateAndFire32(v, drive []float32, leak float32, threshold []float32, spikes []int32) int {
	n := len(v)
	if len(drive) < n || len(threshold) < n || len(spikes) < n {
		panic("snn: integrateAndFire: buffers shorter than the layer")
	}
	bulk := n &^ 3
	k := integrateFireSSE(v[:bulk], drive, threshold, leak, spikes)
	if bulk == n {
		return k
	}
	tail := integrateAndFire(v[bulk:], drive[bulk:n], leak, threshold[bulk:n], spikes[k:])
	for i := k; i < k+tail; i++ {
		spikes[i] += int32(bulk)
	}
	return k + tail
}

//go:noescape
func addColumnsSSE2(v, wt []float64, spikes []int32)

// addColumns64 is addColumns32 for float64.
func addColumns64(v, wt []float64, spikes []int32) {
	if len(v) == 0 || len(spikes) == 0 {
		return
	}
	in := len(wt) / len(v)
	if uint32(spikes[len(spikes)-1]) >= uint32(in) || uint32(spikes[0]) >= uint32(in) {
		panic("snn: addColumns: spike index outside the weight matrix")
	}
	addColumnsSSE2(v, wt, spikes)
}

// AVX-512 kernels (addcols512_amd64.s), used when the CPU has AVX-512F.

//go:noescape
func addColumns32x(v, wt []float32, spikes []int32)

//go:noescape
func addColumns64x(v, wt []float64, spikes []int32)

//go:noescape
func integrateFire32x(v, drive, threshold []float32, leak float32, spikes []int32) int

//go:noescape
func integrateFire64x(v, drive, threshold []float64, leak float64, spikes []int32) int

// checkColumns panics unless every spike of the ascending list indexes a
// column of wt; it reports whether there is anything to add.
func checkColumns(nv, nwt int, spikes []int32) bool {
	if nv == 0 || len(spikes) == 0 {
		return false
	}
	in := nwt / nv
	if uint32(spikes[len(spikes)-1]) >= uint32(in) || uint32(spikes[0]) >= uint32(in) {
		panic("snn: addColumns: spike index outside the weight matrix")
	}
	return true
}

// addColumnsWide32 is addColumns32 in AVX-512.
func addColumnsWide32(v, wt []float32, spikes []int32) {
	if checkColumns(len(v), len(wt), spikes) {
		addColumns32x(v, wt, spikes)
	}
}

// addColumnsWide64 is addColumns64 in AVX-512.
func addColumnsWide64(v, wt []float64, spikes []int32) {
	if checkColumns(len(v), len(wt), spikes) {
		addColumns64x(v, wt, spikes)
	}
}

// integrateAndFireWide32 is integrateAndFire for float32 in AVX-512.
func integrateAndFireWide32(v, drive []float32, leak float32, threshold []float32, spikes []int32) int {
	if n := len(v); len(drive) < n || len(threshold) < n || len(spikes) < n {
		panic("snn: integrateAndFire: buffers shorter than the layer")
	}
	return integrateFire32x(v, drive, threshold, leak, spikes)
}

// integrateAndFireWide64 is integrateAndFire for float64 in AVX-512.
func integrateAndFireWide64(v, drive []float64, leak float64, threshold []float64, spikes []int32) int {
	if n := len(v); len(drive) < n || len(threshold) < n || len(spikes) < n {
		panic("snn: integrateAndFire: buffers shorter than the layer")
	}
	return integrateFire64x(v, drive, threshold, leak, spikes)
}

//go:noescape
func integrate32x(v, drive []float32, leak float32)

//go:noescape
func integrate64x(v, drive []float64, leak float64)

//go:noescape
func fireReset32x(v, threshold []float32, spikes, counts []int32, zero bool) int

//go:noescape
func fireReset64x(v, threshold []float64, spikes, counts []int32, zero bool) int

//go:noescape
func resetCount32x(v, threshold []float32, spikes, counts []int32, zero bool)

//go:noescape
func resetCount64x(v, threshold []float64, spikes, counts []int32, zero bool)

// integrateWide32 is integrate for float32 in AVX-512.
func integrateWide32(v, drive []float32, leak float32) {
	if len(drive) < len(v) {
		panic("snn: integrate: drive shorter than the layer")
	}
	integrate32x(v, drive, leak)
}

// integrateWide64 is integrate for float64 in AVX-512.
func integrateWide64(v, drive []float64, leak float64) {
	if len(drive) < len(v) {
		panic("snn: integrate: drive shorter than the layer")
	}
	integrate64x(v, drive, leak)
}

// fireResetWide32 is fireReset for float32 in AVX-512.
func fireResetWide32(v, threshold []float32, spikes, counts []int32, zero bool) int {
	if n := len(v); len(threshold) < n || len(spikes) < n || len(counts) < n {
		panic("snn: fireReset: buffers shorter than the layer")
	}
	return fireReset32x(v, threshold, spikes, counts, zero)
}

// fireResetWide64 is fireReset for float64 in AVX-512.
func fireResetWide64(v, threshold []float64, spikes, counts []int32, zero bool) int {
	if n := len(v); len(threshold) < n || len(spikes) < n || len(counts) < n {
		panic("snn: fireReset: buffers shorter than the layer")
	}
	return fireReset64x(v, threshold, spikes, counts, zero)
}

// checkReset panics unless the ascending spike list indexes neurons of a
// layer of n with thresholds and counts for all of them.
func checkReset(n, nth, ncounts int, spikes []int32) {
	if nth < n || ncounts < n {
		panic("snn: resetCount: buffers shorter than the layer")
	}
	if k := len(spikes); k > 0 && (uint32(spikes[k-1]) >= uint32(n) || uint32(spikes[0]) >= uint32(n)) {
		panic("snn: resetCount: spike index outside the layer")
	}
}

// resetCountWide32 is resetCount for float32 in AVX-512.
func resetCountWide32(v, threshold []float32, spikes, counts []int32, zero bool) {
	checkReset(len(v), len(threshold), len(counts), spikes)
	resetCount32x(v, threshold, spikes, counts, zero)
}

// resetCountWide64 is resetCount for float64 in AVX-512.
func resetCountWide64(v, threshold []float64, spikes, counts []int32, zero bool) {
	checkReset(len(v), len(threshold), len(counts), spikes)
	resetCount64x(v, threshold, spikes, counts, zero)
}

//go:noescape
func stepNext32x(v, drive, threshold, wt []float32, leak float32, pos, neg, counts, spikes []int32, zero bool) int

//go:noescape
func stepNext64x(v, drive, threshold, wt []float64, leak float64, pos, neg, counts, spikes []int32, zero bool) int

// checkStep panics unless the buffers hold a layer of len(v) neurons and the
// ascending spike lists index columns of wt.
func checkStep(n, ndrive, nth, nwt, ncounts, nspikes int, pos, neg []int32) {
	if ndrive < n || nth < n || ncounts < n || nspikes < n || n == 0 {
		panic("snn: stepNext: buffers shorter than the layer")
	}
	in := uint32(nwt / n)
	if k := len(pos); k > 0 && (uint32(pos[k-1]) >= in || uint32(pos[0]) >= in) {
		panic("snn: stepNext: spike index outside the weight matrix")
	}
	if k := len(neg); k > 0 && (uint32(neg[k-1]) >= in || uint32(neg[0]) >= in) {
		panic("snn: stepNext: spike index outside the weight matrix")
	}
}

// stepNextWide32 is one next-step layer of one sample in AVX-512: as
// integrateAndFire, addColumns(pos), subtractColumns(neg), resetAndCount.
func stepNextWide32(v, drive, threshold, wt []float32, leak float32, pos, neg, counts, spikes []int32, zero bool) int {
	checkStep(len(v), len(drive), len(threshold), len(wt), len(counts), len(spikes), pos, neg)
	return stepNext32x(v, drive, threshold, wt, leak, pos, neg, counts, spikes, zero)
}

// stepNextWide64 is stepNextWide32 for float64.
func stepNextWide64(v, drive, threshold, wt []float64, leak float64, pos, neg, counts, spikes []int32, zero bool) int {
	checkStep(len(v), len(drive), len(threshold), len(wt), len(counts), len(spikes), pos, neg)
	return stepNext64x(v, drive, threshold, wt, leak, pos, neg, counts, spikes, zero)
}
