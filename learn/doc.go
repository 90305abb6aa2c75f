// Package learn holds local and online learning rules that run inside a
// spiking simulation, in plain Go (no Gorgonia): e-prop for recurrent
// populations of package snn.
//
// E-prop (eprop.go) follows NEST 3.7/3.8's eprop_iaf_bsshslm_2020,
// eprop_iaf_adapt_bsshslm_2020 and eprop_readout_bsshslm_2020 (Bellec et al.
// 2020): every sequence starts from a reset state, the surrogate gradient ψ,
// the spikes and the readout errors of the whole sequence are kept, and the
// gradient of the sequence is formed at its end, as NEST does at the end of
// each update interval. The equations are those of
// ../shared/reference/README.md; the eligibility traces are not stored per
// synapse and step but summed in closed form backwards in time (see
// eprop_sequence.go), which gives the same sums in a different order: the tests pin the
// losses, gradients and weights to NEST's test case at 1e-8 or tighter.
//
// For comparison, EpropConfig.Gradient = GradientBPTT forms the exact
// gradient of the same loss through the same surrogate by backpropagation
// through time (bptt.go), with the same forward pass, loss and Adam.
//
// Everything is float64 and deterministic: batches are split across
// goroutines by sample, and per-sample gradients are summed in sample order.
//
// PES (pes.go, pes_channel.go) is Nengo's PES rule and Nengo's learning
// example network (input → pre → learned → post, error = decoded post −
// decoded pre) on package nef, in Nengo's order within a step: ensembles
// fire from the previous step's synapse states, every synapse then takes
// this step's values, and PES adds −lr·dt/n·error ⊗ filtered activities to
// the weights used from the next step on. On Nengo 4.1's run of that network
// (../shared/fixtures/pes) every spike of the traced second is identical and
// the weights agree to ~1e-15 relative. Channel.Parameters (pes_params.go) is
// what `learn pes --save` writes as float64 safetensors: the weights, both
// ensembles and their initial voltages.
package learn
