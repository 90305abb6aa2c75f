// Package train holds spikebridge's gradient-based training, on Gorgonia:
// DQN (Trainer), spiking Q-networks trained by surrogate-gradient BPTT
// (SQN), distillation classifiers (TrainClassifier, the student trainer the
// command line hands to convert.Distill) and emulators (TrainRateEmulator,
// TrainSpikingForward, TrainSpikingEmulator) of probe data. It hands back
// model.Network, snn.Network and emulator networks; prediction, file
// formats and evaluation of those live in model, snn, emulator and formats.
//
// DQN (Trainer) learns a Q-network (an MLP, default 4-64-64-2 ReLU) on an
// env.Env. Only the loss and its gradients run in Gorgonia: the graph is
// built once per batch size and rerun every update, its weight nodes backed
// by the same float32 slices as the plain-Go model.Network that acts and
// evaluates (a Gorgonia forward costs ~84 µs against ~1 µs in plain Go). TD
// targets come from plain-Go forwards of the target network; Adam is plain
// Go so its moments and step count can be checkpointed exactly.
//
// Semantics follow ../shared/reference/dqn_torch.py: target
// y = r + gamma (1 - terminated) Q_target(s', a*), where time-limit
// truncation bootstraps and termination does not; Huber (smooth L1, beta 1)
// or MSE loss, mean over the batch; linear epsilon schedule; one update per
// env step after the warm-up. Options beyond it: Double DQN, Polyak target
// updates, a linearly decaying learning rate, and periodic greedy
// evaluation that keeps the best network.
//
// Determinism: every random draw comes from PCG streams derived from
// Config.Seed (network init, exploration, replay sampling) and the env's own
// seeded stream; Gorgonia's float32 kernels run single-threaded at these
// sizes (gonum's gemm only goes parallel with >= 4 blocks of 64x64, and then
// keeps each output block's summation order). The same Config gives
// bit-identical weights and metrics. A checkpoint holds the whole state
// (networks, Adam, replay buffer, RNG states, counters, metrics, best
// network), so a resumed run ends bit-identical to an uninterrupted one.
package train
