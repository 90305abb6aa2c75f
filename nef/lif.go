package nef

import (
	"fmt"
	"math"
)

// LIF is Nengo's spiking leaky integrate-and-fire neuron type (nengo.LIF).
type LIF struct {
	TauRC      float64 // membrane time constant (s)
	TauRef     float64 // absolute refractory period (s)
	MinVoltage float64 // floor of the voltage (Nengo: 0)
	Amplitude  float64 // scale of the output spike (Nengo: 1; a spike is Amplitude/dt)
}

// DefaultLIF is nengo.LIF() : τ_rc 20 ms, τ_ref 2 ms, floor 0, amplitude 1.
func DefaultLIF() LIF { return LIF{TauRC: 0.02, TauRef: 0.002, MinVoltage: 0, Amplitude: 1} }

// Check reports the first invalid parameter.
func (l LIF) Check() error {
	switch {
	case !(l.TauRC > 0) || math.IsInf(l.TauRC, 0):
		return fmt.Errorf("nef: LIF tau_rc %v s, want > 0", l.TauRC)
	case !(l.TauRef >= 0) || math.IsInf(l.TauRef, 0):
		return fmt.Errorf("nef: LIF tau_ref %v s, want >= 0", l.TauRef)
	case !(l.MinVoltage <= 0):
		return fmt.Errorf("nef: LIF min voltage %v, want <= 0", l.MinVoltage)
	case !(l.Amplitude > 0) || math.IsInf(l.Amplitude, 0):
		return fmt.Errorf("nef: LIF amplitude %v, want > 0", l.Amplitude)
	}
	return nil
}

// LIFState is the per-neuron state of a LIF population.
type LIFState struct {
	Voltage    []float64
	Refractory []float64 // remaining refractory time (s)
}

// NewLIFState returns the state of n neurons at rest (v = 0, not refractory).
func NewLIFState(n int) *LIFState {
	return &LIFState{Voltage: make([]float64, n), Refractory: make([]float64, n)}
}

// Step advances every neuron by dt under input currents J and writes the
// output (0 or Amplitude/dt) into out, as nengo.LIF.step does:
//
//	refractory −= dt; Δt = clip(dt − refractory, 0, dt)
//	v −= (J − v)·expm1(−Δt/τ_rc)
//	spike where v > 1: t_s = dt + τ_rc·log1p(−(v−1)/(J−1)); v = 0; refractory = τ_ref + t_s
//	v = max(v, MinVoltage)
//
// It returns the number of spikes.
func (l LIF) Step(dt float64, J, out []float64, st *LIFState) int {
	n := len(J)
	if len(out) != n || len(st.Voltage) != n || len(st.Refractory) != n {
		panic(fmt.Sprintf("nef: LIF.Step: %d currents, %d outputs, %d voltages, %d refractory times", n, len(out), len(st.Voltage), len(st.Refractory)))
	}
	spike := l.Amplitude / dt
	v, ref := st.Voltage[:n], st.Refractory[:n]
	count := 0
	for i, j := range J {
		ref[i] -= dt
		delta := dt - ref[i]
		if delta < 0 {
			delta = 0
		} else if delta > dt {
			delta = dt
		}
		vi := v[i] - (j-v[i])*math.Expm1(-delta/l.TauRC)
		if vi > 1 {
			out[i] = spike
			count++
			ts := dt + l.TauRC*math.Log1p(-(vi-1)/(j-1))
			vi = 0
			ref[i] = l.TauRef + ts
		} else {
			out[i] = 0
		}
		if vi < l.MinVoltage {
			vi = l.MinVoltage
		}
		v[i] = vi
	}
	return count
}

// Rate is the LIF's steady firing rate (Hz) under a constant current J:
// 1/(τ_ref + τ_rc·log1p(1/(J−1))) for J > 1, else 0 (nengo.LIFRate).
func (l LIF) Rate(J float64) float64 {
	if !(J > 1) {
		return 0
	}
	return l.Amplitude / (l.TauRef + l.TauRC*math.Log1p(1/(J-1)))
}

// GainBias returns the gain and bias that give a neuron maximum rate
// maxRate (Hz) at x = 1 and threshold (intercept) at x = intercept, as
// nengo.LIFRate.gain_bias: z = 1/(1 − exp((τ_ref − 1/maxRate)/τ_rc)),
// gain = (1 − z)/(intercept − 1), bias = 1 − gain·intercept.
func (l LIF) GainBias(maxRate, intercept float64) (gain, bias float64, err error) {
	if !(maxRate > 0) || 1/maxRate <= l.TauRef {
		return 0, 0, fmt.Errorf("nef: max rate %v Hz, want > 0 and below 1/tau_ref = %v Hz", maxRate, 1/l.TauRef)
	}
	if !(intercept < 1) || math.IsInf(intercept, 0) {
		return 0, 0, fmt.Errorf("nef: intercept %v, want < 1", intercept)
	}
	z := 1 / (1 - math.Exp((l.TauRef-1/maxRate)/l.TauRC))
	gain = (1 - z) / (intercept - 1)
	bias = 1 - gain*intercept
	return gain, bias, nil
}
