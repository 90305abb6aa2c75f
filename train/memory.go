package train

// Memory estimates, checked by the CLI before a run allocates (in bytes;
// float64 so that absurd sizes overflow to large numbers, not negative).

// MemoryBytes estimates a DQN run of c: the replay buffer (two
// observations, action, reward, done per transition, float64) and the
// graph's mini-batch activations, gradients and Adam moments (float32,
// ~16 copies of the batch's layer widths), for CartPole's 4 observations
// and 2 actions. A spiking Q-network trained by BPTT keeps every one of
// its timesteps (pass 1 or less for an ANN).
func (c Config) MemoryBytes(timesteps int) float64 {
	widths := 4 + 2 + sumWidths(c.Hidden)
	steps := float64(max(timesteps, 1))
	return float64(c.Buffer)*(2*4+3)*8 + float64(c.Batch)*widths*4*16*steps + MLPWeightBytes(4, c.Hidden, 2)
}

// MLPTrainingBytes estimates the training of an MLP (classifier,
// distillation student, rate emulator): its weights and one batch's
// activations over steps steps (BPTT through T steps or a window; 1 for an
// ANN). Inputs and outputs are taken as 64 wide: the CLI checks before it
// has read the data.
func MLPTrainingBytes(hidden []int, batch, steps int) float64 {
	return MLPWeightBytes(64, hidden, 64) + float64(batch)*(128+sumWidths(hidden))*4*16*float64(max(steps, 1))
}

// MLPWeightBytes: the float32 weights of an MLP inputs-hidden-outputs kept
// about eight times over in training (parameters, gradients, Adam's two
// moments, target network, graph copies).
func MLPWeightBytes(inputs int, hidden []int, outputs int) float64 {
	sizes := append(append([]int{inputs}, hidden...), outputs)
	n := 0.0
	for i := 0; i+1 < len(sizes); i++ {
		n += (float64(sizes[i]) + 1) * float64(sizes[i+1])
	}
	return n * 4 * 8
}

func sumWidths(widths []int) float64 {
	s := 0.0
	for _, w := range widths {
		s += float64(w)
	}
	return s
}
