package convert

// StudentRecipe is the student classifier's part of the default distill
// recipe, in the trainer's terms (the caller maps it onto its trainer's
// configuration: convert never imports train).
type StudentRecipe struct {
	Hidden []int // hidden widths
	// Epochs of the first student; at most MaxUpdates updates of Batch
	// states per training (fewer epochs on many states; 0: no cap).
	Epochs, Batch, MaxUpdates int
	// LR decays linearly to LRFinal over every training (Adam).
	LR, LRFinal float64
	// ClipFloor: hidden activations clipped to [0, 1] and rounded to this
	// many levels while training (0: plain ReLU).
	ClipFloor int
	// Standardize trains on standardized inputs (folded back afterwards).
	Standardize bool
}

// DefaultStudentRecipe returns the default student.
//
// Measured on the policy zoo (bench/policy_zoo.sh, bench/fidelity.sh):
// standardized inputs lifted the students' fit of the teacher from 92-96 %
// of its own states; at the same CPU time, batches of 64 at lr 1e-2
// (12,000 updates) fitted the 3-hidden-layer z08 teacher on 98.3 % of the
// first student's states against 95.2 % with batches of 256 at 3e-3 (4,000
// updates), and raised own-trajectory agreement at T = 16 by 0.5-1.5 points
// on six policies, with less CPU on the 500-step policies (40 s against 47
// s for the pipeline's DQN). lr 3e-2 and 1e-3 fitted worse (97.7, 94.3 %).
func DefaultStudentRecipe() StudentRecipe {
	return StudentRecipe{Hidden: []int{64, 64}, Epochs: 150, Batch: 64, MaxUpdates: 12000,
		LR: 1e-2, LRFinal: 1e-5, ClipFloor: 16, Standardize: true}
}

// DefaultDistillOptions returns the default recipe's DAgger settings: 3
// rounds of 20 SNN episodes and 30 epochs of retraining, 60 greedy
// episodes of the teacher, the student with the best measured closed-loop
// agreement kept, hard labels, seed 1. The caller adds Convert
// (MethodOptions(MethodDistill, ...)), Timesteps and Train.
func DefaultDistillOptions() DistillOptions {
	return DistillOptions{Rounds: 3, Episodes: 20, FirstEpochs: DefaultStudentRecipe().Epochs, RoundEpochs: 30,
		Seed: 1, Select: true, TeacherEpisodes: 60, Softness: DefaultSoftness}
}
