package snn

// addColumnsSSE is addColumns for float32 in SSE assembly (addcols_amd64.s);
// SSE is part of the amd64 baseline, so no feature check is needed.
//
//go:noescape
func addColumnsSSE(v, wt []float32, spikes []int32)

// addColumns32 adds column j of the (in, out) matrix wt to v for every spike j,
// bit-identical to the generic addColumns.
func addColumns32(v, wt []float32, spikes []int32) {
	if len(v) == 0 || len(spikes) == 0 {
		return
	}
	in := len(wt) / len(v)
	for _, j := range spikes {
		if uint32(j) >= uint32(in) {
			panic("snn: addColumns: spike index outside the weight matrix")
		}
	}
	addColumnsSSE(v, wt, spikes)
}
