// Package export writes spiking networks as scripts for other simulators:
// Brian2 and PyNN (NEST, SpiNNaker, NEURON, Brian2 backends). Every script
// target has the same interface, so results can be compared row by row
// with spikebridge's own simulation:
//
//	python3 OUT.py INPUT.npz RESULT.npz
//
// INPUT holds `states` (rows, inputs); RESULT gets `actions` (argmax of the
// readout, ties to the lowest index; spike readouts break ties by the final
// membrane as snn does), `outputs` (rows, outputs) and
// `spike_counts_<layer>` (rows, neurons) for every spiking layer. The
// weights travel in OUT.npz beside the script (float32, (out, in)); the
// script's header states the source model, the spikebridge version and the
// fidelity grade of every layer.
//
// Brian2 scripts rebuild the network with NeuronGroups whose membranes
// follow v = leak*v + I exactly (run_regularly in the "groups" slot) and
// Synapses that add w on a presynaptic spike; Brian2's schedule (update,
// threshold, propagate, reset) is snn's next-step mode, so a next-step
// network gives the same spike counts in float64, and a same-step one is
// graded approximate. PyNN scripts use the standard IF_curr_delta cell;
// its limits (reset to v_reset, never by subtraction; a leak only as
// exp(-dt/tau_m); a refractory period of at least one step; delays of at
// least one step) are graded per layer and printed in the header.
package export
