// Package workflow holds the file-to-file jobs behind the CLI's verbs:
// train a DQN into a run directory, record states, convert a model file,
// compare an ANN and an SNN file, import a PyTorch file, and the pipeline
// that chains them with typed calls and writes the report; likewise eval,
// predict, probe generate, env cartpole and the other verbs (the SQN,
// emulator, e-prop and classifier trainers, learn pes and follow, export
// and import nir, eval-emulator). Each job takes a
// typed options value and returns a typed result; it reads and writes files
// through formats (the output rule, run-directory locks, checkpoints) and
// calls the domain packages for the work. It prints nothing: progress and
// results go back to the caller (cmd/spikebridge), which owns flags,
// progress bars and printing (a result may write its text for people,
// WriteText, into a writer the caller gives). Errors name files and values,
// never flags.
//
// workflow sits one tier above train, learn, convert, export, emulator and
// report, and below cmd. DESIGN.md's package table does not list it: it is
// where the run machinery that used to live in cmd went, so that cmd keeps
// only flags, wiring, progress and printing and a Go program can run the
// same jobs the CLI runs.
package workflow
