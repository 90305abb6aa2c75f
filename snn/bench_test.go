package snn

import (
	"fmt"
	"testing"
)

// BenchmarkDecision times one decision of a 4-64-64-2 network of baseline IF
// neurons (hidden rates ~25-30 % per step) at T = 64 with analog input and
// the membrane readout: single-sample runs, and batches reported per decision.
func BenchmarkDecision(b *testing.B) {
	const T = 64
	for _, prop := range []Propagation{SameStep, NextStep} {
		for _, batch := range []int{1, 64} {
			b.Run(fmt.Sprintf("4-64-64-2/T=%d/%s/batch=%d", T, prop, batch), func(b *testing.B) {
				net := randomNetwork(b, []int{4, 64, 64, 2}, 1, prop, Membrane, Analog)
				const nInputs = 256
				x := randomInputs(nInputs, 4, 9)
				state := net.NewState(batch)
				q := make([]float32, batch*2)
				actions := make([]int, batch)
				b.ReportAllocs()
				b.ResetTimer()
				i := 0
				for b.Loop() {
					start := (i % (nInputs / batch)) * batch * 4
					if batch == 1 {
						if _, err := net.Run(q, x[start:start+4], state, T); err != nil {
							b.Fatal(err)
						}
					} else if err := net.RunBatch(q, actions, x[start:start+batch*4], batch, state, T); err != nil {
						b.Fatal(err)
					}
					i++
				}
				c := state.Counters
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(c.Decisions), "ns/decision")
				b.ReportMetric(float64(c.TotalSpikes())/float64(c.Decisions), "spikes/decision")
				b.ReportMetric(float64(c.SynOps)/float64(c.Decisions), "synops/decision")
			})
		}
	}
}

// BenchmarkBrian2FF times the ff network of the Brian2 fixture (4-16-16-2,
// Rate input, next-step order, T = 100), reported per decision.
func BenchmarkBrian2FF(b *testing.B) {
	d := loadBrian2FF(b)
	b.Run("float64", func(b *testing.B) { benchFF(b, brian2Network[float64](b, d), d.X, d.N) })
	x32 := make([]float32, len(d.X))
	for i, v := range d.X {
		x32[i] = float32(v)
	}
	b.Run("float32", func(b *testing.B) { benchFF(b, brian2Network[float32](b, d), x32, d.N) })
}

func benchFF[F Float](b *testing.B, net *NetworkOf[F], x []F, n int) {
	state := net.NewState(n)
	actions := make([]int, n)
	b.ReportAllocs()
	for b.Loop() {
		if err := net.RunBatch(nil, actions, x, n, state, 0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(state.Counters.Decisions), "ns/decision")
	b.ReportMetric(float64(state.Counters.Decisions)/b.Elapsed().Seconds(), "decisions/s")
}
