// Package nef builds and runs NEF-style spiking ensembles (Eliasmith &
// Anderson) in plain Go with Nengo's semantics, so that a network learned or
// run here gives Nengo's spikes and numbers step for step.
//
// Conventions (all float64):
//   - An Ensemble of N neurons represents a D-dimensional value x. Its input
//     current is J = bias + gain·(e·x) (Nengo adds the scaled encoders gain·e
//     to a current that starts at the bias). Encoders are stored row-major
//     (N, D), unit length.
//   - LIF neurons follow nengo.LIF: refractory time counts down by dt, the
//     voltage integrates over the part of the step not spent refractory, a
//     spike is emitted when v > 1 with output amplitude 1/dt, its sub-step
//     time sets the refractory period, and v is floored at MinVoltage.
//   - Gain and bias come from maximum rates and intercepts as Nengo's LIF
//     gain_bias computes them; decoders from regularised least squares on the
//     rate responses at evaluation points (Nengo's LstsqL2: Cholesky with
//     m·σ² on the diagonal, σ = reg·max rate).
//   - Lowpass(τ) is y ← a·y + (1−a)·u with a = exp(−dt/τ). A value read in
//     step k is the filter state after step k−1's update, as in Nengo, where
//     every synapse is an update operator.
//
// Random draws (encoders, rates, intercepts, evaluation points, initial
// voltages) come from a seeded source passed in (math/rand/v2); they are
// not numpy's draws, so a Nengo network is reproduced by loading its
// parameters, not its seed.
package nef
