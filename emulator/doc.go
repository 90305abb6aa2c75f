// Package emulator holds emulator networks: models that stand in for a
// recorded dynamical system (probe data), their file format, prediction
// and evaluation.
//
// Kinds: a rate emulator (an MLP on standardised features, optionally
// trained with clip-floor activations), a spiking forward model (the same
// MLP run as integrate-and-fire layers for T steps per prediction, on
// snn/ through convert's unit-scale conversion) and a recurrent spiking
// sequence network (Spiking: LIF neurons with synaptic traces and a linear
// readout over a window). A rate or spiking forward emulator is a native
// model file whose provenance setting SettingsKey holds its Doc as JSON; a
// recurrent one is a safetensors file of five float32 tensors (input,
// recurrent and readout weights and biases, row-major (out, in)) with the
// Doc under formats.EmulatorMetadataKey. A file alone rebuilds the
// emulator's samples from its probe file (Doc.Task, Doc.Windows).
//
// Training lives in train/, which builds these networks; this package
// never imports train. Everything is deterministic.
package emulator
