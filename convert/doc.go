// Package convert turns a trained ANN (model.Network) into a rate-coded
// spiking network (snn.Network) and measures how much of the ANN agent's
// behaviour the spiking network keeps.
//
// Conversion (Convert) follows DESIGN.md's baseline: every Dense+ReLU layer
// becomes a layer of non-leaky integrate-and-fire neurons with threshold 1,
// reset by subtraction and v(0) = θ/2; the last Dense layer becomes a
// non-spiking membrane integrator whose accumulated input / T is the ANN's
// output in its own units. Activations recorded on calibration states give a
// scale λ per layer (or per neuron) from a percentile (100 = max) of the
// positive ReLU outputs; weights become W_l λ_{l-1} / λ_l and biases b_l / λ_l
// (λ_0 = 1 for the analog input, and the output layer keeps the ANN's units).
// Options select neuron-wise scales, a calibration of the biases at the
// target T on the same states, which removes the mean rate error of every
// neuron layer by layer, and copies per neuron (Replicate: k copies at
// staggered v(0) resolve rates to 1/(kT) for k times the spikes).
//
// Methods (MethodOptions) name the recipes. Distill is the distillation
// recipe: a conversion-friendly student trained on the teacher's actions,
// improved by DAgger rounds on the states its SNN visits, then converted;
// each round measures the previous student's SNN in closed loop, and the one
// that agreed most with the teacher on its own states can be kept (Select).
// The student's trainer (train.TrainClassifier) is passed in as a
// StudentTrainer by the caller, never imported here: convert only sees
// networks, environments and recorded states.
//
// The comparison (Compare) runs the ANN and the SNN on the same initial
// states of an environment for each T and reports DESIGN.md's metrics:
// agreement on the SNN's own trajectory (overall and on decisive states),
// on a fixed recorded state set, returns and their ratio to the ANN's, the
// share of episodes whose length differs from the ANN's on the same initial
// state, Q error, and spikes and synaptic operations per decision against
// the ANN's multiply-accumulates.
//
// Errors name what is wrong (state, column, layer, T). Everything is
// deterministic: no randomness is used except through explicit seeds.
package convert
