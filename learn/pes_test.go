package learn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// PES on a full weight matrix onto neurons with scaled encoders E is PES on
// decoders D seen through E: if W = E·D before a step, W = E·D after it.
func TestPESWeightsEqualDecodersThroughEncoders(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	nPre, nPost, d := 7, 5, 2
	dec := make([]float64, d*nPre)
	enc := make([]float64, nPost*d)
	for i := range dec {
		dec[i] = rng.NormFloat64()
	}
	for i := range enc {
		enc[i] = 10 * rng.NormFloat64()
	}
	full := make([]float64, nPost*nPre)
	product := func(dst []float64) {
		for j := 0; j < nPost; j++ {
			for i := 0; i < nPre; i++ {
				s := 0.0
				for k := 0; k < d; k++ {
					s += enc[j*d+k] * dec[k*nPre+i]
				}
				dst[j*nPre+i] = s
			}
		}
	}
	product(full)
	rule := PES{LearningRate: 1e-3}
	errValue := []float64{0.3, -0.7}
	act := make([]float64, nPre)
	for i := range act {
		act[i] = 200 * rng.Float64()
	}
	rule.UpdateDecoders(dec, errValue, act, 0.001)
	rule.UpdateWeights(full, enc, errValue, act, make([]float64, nPost), 0.001)
	want := make([]float64, len(full))
	product(want)
	for i := range full {
		if math.Abs(full[i]-want[i]) > 1e-12*math.Max(1, math.Abs(want[i])) {
			t.Fatalf("weight %d: %v after PES on weights, %v through the decoders", i, full[i], want[i])
		}
	}
	// and the decoders' change is −lr·dt/n · error ⊗ activities exactly
	before := make([]float64, len(dec))
	copy(before, dec)
	rule.UpdateDecoders(dec, errValue, act, 0.001)
	for k := 0; k < d; k++ {
		for i := 0; i < nPre; i++ {
			want := before[k*nPre+i] + (-1e-3*0.001/float64(nPre)*errValue[k])*act[i]
			if dec[k*nPre+i] != want {
				t.Fatalf("decoder (%d, %d): %v, want %v", k, i, dec[k*nPre+i], want)
			}
		}
	}
}
