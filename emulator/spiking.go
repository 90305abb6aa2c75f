package emulator

import (
	"fmt"
	"math"

	"github.com/spikebridge/spikebridge/probe"
)

// Spiking is a recurrent network of leaky integrate-and-fire
// neurons with a non-spiking linear readout, run over a window of Window
// steps. At step t its input is the step's inputs u_t (StepInputs values)
// and a constant context c (Context values, e.g. the state at the window's
// first step), both standardised:
//
//	I_t = WIn [u_t; c] + WRec s_{t-1} + B
//	v_t = Leak v_{t-1} + I_t − Threshold s_{t-1}   (reset by subtraction)
//	s_t = [v_t >= Threshold]
//	r_t = TraceDecay r_{t-1} + (1 − TraceDecay) s_t  (synaptic trace)
//	y_t = WOut r_t + BOut
//
// with v, s and r zero before the first step. Weights are row-major (out,
// in). A probe.SequenceTask sample [u_0 … u_{L−1}; c] maps to [y_0 … y_{L−1}].
//
// With Feedback the network is a spiking forward model rolled over the
// window: the readout integrates, y_t = y_{t−1} + WOut r_t + BOut, and the
// previous readout y_{t−1} (zero at t = 0) is a third input of the hidden
// layer, I_t = WIn [u_t; c; y_{t−1}] + WRec s_{t−1} + B; c + y_{t−1} is then
// the standardised current state of a residual sequence task.
type Spiking struct {
	Window, StepInputs, Context, Hidden, Outputs int
	Leak, TraceDecay, Threshold                  float32
	Feedback                                     bool
	WIn, WRec, B, WOut, BOut                     []float32
}

// Features is the width of the hidden layer's input: step inputs,
// context and, with Feedback, the outputs.
func (e *Spiking) Features() int {
	f := e.StepInputs + e.Context
	if e.Feedback {
		f += e.Outputs
	}
	return f
}

// SpikingState holds the buffers of a forward run (NewState).
type SpikingState struct {
	in, cur, v, s, r []float32
	// Spikes counts the hidden spikes of the last Forward.
	Spikes int
}

// NewState returns buffers for Forward; Forward then allocates nothing.
func (e *Spiking) NewState() *SpikingState {
	return &SpikingState{in: make([]float32, e.Features()), cur: make([]float32, e.Hidden),
		v: make([]float32, e.Hidden), s: make([]float32, e.Hidden), r: make([]float32, e.Hidden)}
}

// Check reports the first inconsistency of sizes or a non-finite parameter.
func (e *Spiking) Check() error {
	f := e.Features()
	switch {
	case e.Window <= 0 || e.StepInputs <= 0 || e.Context < 0 || e.Hidden <= 0 || e.Outputs <= 0:
		return fmt.Errorf("spiking emulator: window %d, %d step inputs, %d context, %d hidden, %d outputs: want positive sizes",
			e.Window, e.StepInputs, e.Context, e.Hidden, e.Outputs)
	case !(e.Threshold > 0):
		return fmt.Errorf("spiking emulator: threshold %v, want > 0", e.Threshold)
	case !(e.Leak >= 0 && e.Leak <= 1) || !(e.TraceDecay >= 0 && e.TraceDecay < 1):
		return fmt.Errorf("spiking emulator: leak %v and trace decay %v, want [0, 1] and [0, 1)", e.Leak, e.TraceDecay)
	}
	for _, t := range []struct {
		name string
		v    []float32
		n    int
	}{{"input weights", e.WIn, e.Hidden * f}, {"recurrent weights", e.WRec, e.Hidden * e.Hidden},
		{"hidden bias", e.B, e.Hidden}, {"readout weights", e.WOut, e.Outputs * e.Hidden}, {"readout bias", e.BOut, e.Outputs}} {
		if len(t.v) != t.n {
			return fmt.Errorf("spiking emulator: %s hold %d values, want %d", t.name, len(t.v), t.n)
		}
		for i, x := range t.v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return fmt.Errorf("spiking emulator: %s value %d is %v", t.name, i, x)
			}
		}
	}
	return nil
}

// Forward runs one sample x (Window*StepInputs + Context values) and writes
// the readout of every step into dst (Window*Outputs values).
func (e *Spiking) Forward(dst, x []float32, st *SpikingState) {
	f := e.Features()
	copy(st.in[e.StepInputs:], x[e.Window*e.StepInputs:e.Window*e.StepInputs+e.Context])
	clear(st.in[e.StepInputs+e.Context:])
	clear(st.v)
	clear(st.s)
	clear(st.r)
	st.Spikes = 0
	for t := 0; t < e.Window; t++ {
		copy(st.in[:e.StepInputs], x[t*e.StepInputs:(t+1)*e.StepInputs])
		for n := 0; n < e.Hidden; n++ {
			sum := e.B[n]
			for i, w := range e.WIn[n*f : (n+1)*f] {
				sum += w * st.in[i]
			}
			for i, w := range e.WRec[n*e.Hidden : (n+1)*e.Hidden] {
				sum += w * st.s[i]
			}
			st.cur[n] = sum
		}
		for n := range st.v {
			st.v[n] = e.Leak*st.v[n] + st.cur[n] - e.Threshold*st.s[n]
			st.s[n] = 0
			if st.v[n] >= e.Threshold {
				st.s[n] = 1
				st.Spikes++
			}
			st.r[n] = e.TraceDecay*st.r[n] + (1-e.TraceDecay)*st.s[n]
		}
		y := dst[t*e.Outputs : (t+1)*e.Outputs]
		for o := range y {
			sum := e.BOut[o]
			for n, w := range e.WOut[o*e.Hidden : (o+1)*e.Hidden] {
				sum += w * st.r[n]
			}
			if e.Feedback && t > 0 {
				sum = dst[(t-1)*e.Outputs+o] + sum
			}
			y[o] = sum
		}
		if e.Feedback {
			copy(st.in[e.StepInputs+e.Context:], y)
		}
	}
}

// MaskedMSE is the NaN-masked mean squared error of e on s (float64).
func (e *Spiking) MaskedMSE(s *probe.Samples) float64 {
	st := e.NewState()
	return probe.MaskedMSE(s, func(dst, x []float32) { e.Forward(dst, x, st) })
}

// Clone returns a deep copy of e.
func (e *Spiking) Clone() *Spiking {
	c := *e
	c.WIn, c.WRec, c.B = append([]float32(nil), e.WIn...), append([]float32(nil), e.WRec...), append([]float32(nil), e.B...)
	c.WOut, c.BOut = append([]float32(nil), e.WOut...), append([]float32(nil), e.BOut...)
	return &c
}
