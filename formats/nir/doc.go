// Package nir reads and writes NIR graphs (the Neuromorphic Intermediate
// Representation, HDF5 files as the Python nir package writes them) and maps
// them onto spikebridge's layered spiking networks (package snn).
//
// NIR describes neurons in continuous time; snn runs in discrete steps of
// dt seconds. One table fixes the mapping, in both directions (a = exp(-dt/τ),
// the exact decay over one step with the input held for the step, "zero-order
// hold"; W, b: the Affine/Linear node before the neuron):
//
//	NIR node                         snn layer (v = Leak*v + W' s + b')
//	LIF  τ, r, v_leak, v_threshold   Leak = a, W' = (1-a) r W, b' = (1-a)(v_leak + r b)
//	IF   r, v_threshold              Leak = 1, W' = dt r W,    b' = dt r b
//	I    r (last node)               membrane-readout integrator, W' = dt r W, b' = dt r b
//	v_threshold                      Threshold (per neuron: Thresholds)
//	v_reset = 0                      Reset "zero"
//	z = v > v_threshold              snn spikes at v >= threshold (differs only at equality)
//
// Export picks r = 1/(1-a) (LIF) or r = 1/dt (IF, I), so the NIR weights are
// our weights and the import of an exported file gives back every parameter
// bit for bit (float32 absorbs the float64 rounding of exp and log).
//
// What NIR cannot say is written in each node's metadata group (strings)
// and graded: reset by subtraction ("reset": "subtract"), v(0) other than 0
// ("initial_membrane"), next-step propagation, rate or Poisson input
// encoders, the readout's scale and T. Import honours that metadata, so a
// spikebridge network survives the round trip exactly; for files from other
// tools it follows the NIR equations above. Grades: faithful (NIR's
// equations give our dynamics up to the threshold equality case),
// approximate (a NIR tool that ignores our metadata simulates something
// else, named in the note), unsupported (not representable).
//
// Export: FromSNN writes a layered network with the table above
// (export.go); FromRecurrent writes a recurrent population (snn.Recurrent,
// the e-prop networks) as LIF and LI nodes with a recurrent Linear edge
// (recurrent.go). Import (ToSNN, import.go and chain.go) reads chains
// Input -> [Scale] -> (Affine|Linear -> [Flatten] -> IF|LIF)+ ->
// [Affine|Linear -> I] -> Output into a layered network. Recurrent edges,
// CubaLIF, CubaLI, LI, Threshold, Conv2d, SumPool2d and AvgPool2d nodes are
// read and reported as unsupported (the layered networks have no recurrent
// edges, synaptic currents or convolutions, and recurrent files are not
// imported yet).
package nir
