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
