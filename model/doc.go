// Package model is spikebridge's framework-neutral artificial neural network.
//
// A Network is an ordered list of layers validated at construction: Dense
// layers (weights stored row-major as (out, in), bias of length out) and
// element-wise activations (ReLU, Identity). The forward pass is plain Go in
// float32, single-sample or batched, and writes into buffers the caller owns:
// after a Workspace is made, Forward and ForwardBatch allocate nothing.
//
// Batched inputs and outputs are row-major (batch, features). The summation
// order inside a dot product is fixed, so results are bit-identical from run
// to run on one machine.
package model
