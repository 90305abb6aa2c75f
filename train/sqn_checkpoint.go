package train

import "fmt"

// SaveCheckpoint writes the whole training state to path atomically, in the
// DQN checkpoint's layout with its own magic and settings.
func (t *SQNTrainer) SaveCheckpoint(path string) error {
	return saveCheckpoint(path, sqnCheckpointMagic, t.cfg, &t.qLearning)
}

// ResumeSQNTrainer rebuilds a trainer from the checkpoint at path; cfg must
// equal the checkpoint's settings (the error lists the differences).
func ResumeSQNTrainer(cfg SQNConfig, path string) (*SQNTrainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	st, err := readCheckpoint[SQNConfig](path, sqnCheckpointMagic, "SQN")
	if err != nil {
		return nil, err
	}
	d := cfg.Config.diff(st.Config.Config)
	if a, b := cfg, st.Config; a.Timesteps != b.Timesteps || a.Threshold != b.Threshold || a.Leak != b.Leak ||
		a.Surrogate != b.Surrogate || a.SurrogateK != b.SurrogateK || a.GradClip != b.GradClip {
		d += fmt.Sprintf("; neurons %+v (checkpoint) vs %+v (now)", b.neurons(), a.neurons())
	}
	if d != "" {
		return nil, fmt.Errorf("train: checkpoint %s was written with other settings: %s", path, d)
	}
	t, err := newSQNTrainer(cfg)
	if err != nil {
		return nil, err
	}
	if err := restoreCheckpoint(&t.qLearning, st, path, newSQNParams, t); err != nil {
		return nil, err
	}
	return t, nil
}
