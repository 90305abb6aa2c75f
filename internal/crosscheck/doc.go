// Package crosscheck holds tests that pin a package to an independent
// implementation or to a package of its own tier, which it may not import
// (DESIGN.md): a spiking forward model run on snn/ through convert's
// unit-scale conversion (emulator.NewSpikingForwardRegressor, which train
// scores its validation loss with) against a plain-Go simulation written
// from the model's equations. It has no code of its own.
package crosscheck
