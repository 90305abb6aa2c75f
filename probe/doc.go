// Package probe holds recorded probe data of dynamical systems and what
// emulators are trained and scored on.
//
// A Data set is Trials trials of Steps samples, each an input vector and a
// target vector (the system's state), sampled every Dt seconds; targets
// may be NaN where nothing was recorded. It is read from and written to
// .npz (arrays inputs, targets, dt and the column names) or .csv (Load,
// WriteNPZ, WriteCSV). SplitWindows cuts the trials into windows and
// splits them by trial into training and validation; a Task (forward: the
// change of the state over one step; sequence: a whole window) turns
// windows into standardised Samples. NRMSE, Rollout and LimitCycle score
// a Predictor: per-target RMSE over the standard deviation of the true
// values, closed-loop rollouts under recorded inputs, and the period and
// amplitude of a free run.
//
// Everything is deterministic for a given seed; no global randomness.
package probe
