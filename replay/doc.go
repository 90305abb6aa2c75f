// Package replay holds the experience a DQN agent learns from.
//
// Buffer is a fixed-capacity ring of transitions (obs, action, reward,
// next obs, terminated): once full, each Add overwrites the oldest one.
// Sample draws a mini-batch uniformly with replacement from the stored
// transitions, using only the random source the caller passes in, into a
// Batch the caller owns; after construction neither Add nor Sample
// allocates. Observations are float32, row-major (batch, obs size).
//
// A Buffer's whole contents and position can be written and read back with
// WriteTo and ReadFrom, so a training run can be checkpointed and resumed
// bit for bit.
package replay
