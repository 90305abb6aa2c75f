package env

// MemoryBytes estimates GenerateProbe's recording of c: inputs and states
// of every step as float64, held by the recording, the probe data and the
// file's encoding (x3), 6 values per step for the arm, the widest system.
// Duration and Dt need not be checked: NaN or huge estimates compare as
// too large.
func (c ProbeConfig) MemoryBytes() float64 {
	steps := c.Duration / c.Dt
	return float64(c.Trials) * (steps + 1) * 6 * 8 * 3
}
