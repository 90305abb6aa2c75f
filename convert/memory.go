package convert

// RecordingBytes estimates a Recording of episodes CartPole episodes: up
// to 500 rows each of states, Q-values, actions and taken actions, as
// float64 on the way to the .npz (~64 KiB per episode).
func RecordingBytes(episodes int) float64 {
	return float64(episodes) * 500 * 16 * 8
}

// ComparisonBytes estimates a Comparison over episodes episodes: the
// visited states, Q-values and actions of every episode of the ANN and
// the SNN (up to 500 steps each).
func ComparisonBytes(episodes int) float64 {
	return float64(episodes) * 500 * 2 * 8 * 8
}
