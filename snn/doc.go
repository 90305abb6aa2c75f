// Package snn is spikebridge's spiking-network simulator: layered feed-forward
// networks of integrate-and-fire neurons in discrete time, in plain Go.
//
// A Network is a list of fully connected layers. Every neuron of a layer
// integrates v = Leak*v + I each step (Leak = 1 is the non-leaky IF neuron, Leak
// < 1 the LIF neuron), where I is the layer's bias (a constant current per
// neuron) plus the weights of the presynaptic spikes of the step. A neuron
// spikes when v >= its threshold and is then reset by subtracting the threshold
// or to zero. Layer weights are stored row-major (out, in) as in package model;
// the simulator keeps a transposed (in, out) copy so that one spike adds one
// contiguous column (event-driven propagation).
//
// Input: Analog feeds the raw observation x as a constant current W x into
// the first layer; Rate feeds it through integrate-and-fire input neurons
// (v += Gain*x, signed spikes, subtractive reset); Poisson draws a signed spike
// with probability min(Gain*|x|, 1) per input and step from a seeded PCG
// source that the caller puts in the State.
//
// Propagation: SameStep sweeps the layers in order inside one step, so a spike
// reaches the next layer in the step it is emitted (the DESIGN.md default).
// NextStep follows Brian2's schedule (integrate all, threshold all, propagate,
// reset all), so a spike reaches the next layer one step later; in this mode
// the simulator reproduces Brian2's float64 spike counts exactly.
//
// Readout: Membrane makes the last layer a non-spiking integrator; its output
// is accumulated input / T * OutputScale (an estimate of the ANN's output in
// its own units) and the decision is the argmax, ties to the lowest index.
// Spikes keeps the last layer spiking; its output is count / T * OutputScale
// and the decision is the argmax of the counts, ties to the larger final
// membrane, then to the lowest index (as Brian2's reference script decides).
//
// Precision is a type parameter: Network (float32) is the fast default, and
// NetworkOf[float64] is bit-compatible with Brian2's float64 arithmetic. On
// amd64 the column additions, integration and threshold tests run in AVX-512
// assembly where the CPU has it, else in SSE (float32 threshold tests, column
// additions); every kernel is bit-identical to the generic Go loops (tests
// compare them bit for bit).
//
// RunBatch simulates batches of 16 or more samples in lockstep on amd64 with
// AVX or AVX-512 (lockstep.go; BatchKernel says which): chunks of 32 samples
// advance one step at a time, every sample a SIMD lane, with spikes as lane
// masks and masked column additions. The results are bit-identical to the
// per-sample path, which remains for single runs, small batches, Poisson input
// and recording.
//
// Runs write into a State the caller owns (Network.NewState); after it is made,
// Run and RunBatch allocate nothing. The state is reset before every decision
// unless State.CarryMembrane is set. The State also accumulates Counters (spikes
// per layer, synaptic operations, analog input MACs) and, on request, records
// spike events into a Recorder with caller-preallocated capacity.
//
// Recurrent (recurrent.go) is the other kind of network: one recurrent
// population of LIF and adaptive-threshold LIF neurons with refractoriness, a
// zero-diagonal recurrent weight matrix and leaky-integrator readouts
// (softmax or identity output), in float64, in the step order of NEST's
// eprop_*_bsshslm_2020 models (package learn trains it by e-prop). Its Step is
// event-driven (a nonzero input or a spike adds one weight column), allocates
// nothing and counts spikes and synaptic operations in the RecurrentState.
//
// Everything is deterministic: the same network, inputs and PCG seed give
// bit-identical counts and outputs on one machine.
package snn
