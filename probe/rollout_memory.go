package probe

// RolloutBytes estimates a free run of seconds at dt (Task.Rollout over
// seconds/dt steps): its zero inputs, its states and the traced target per
// step, as float64, twice over while the rollout copies. NaN or huge for
// unusable seconds or dt, which compare as too large.
func RolloutBytes(seconds, dt float64, inputs, targets int) float64 {
	return (seconds/dt + 1) * float64(inputs+2*targets+1) * 8 * 2
}
