// Package formats reads and writes every file spikebridge touches, without
// Python: native model files (safetensors with a JSON description), PyTorch
// .pt files, .npy/.npz data sets.
//
// Guarantees shared by all readers: sizes read from a file are checked
// against the file's length before anything is allocated, and compressed
// members (deflated .npz and .pt members) against a read budget and a
// zip-bomb ratio (budget.go); bad input gives an error naming the file and
// the tensor or layer, never a panic or a hang. Weights handed to package
// model are float32, row-major (out, in).
//
// Guarantees shared by all writers (output.go, atomic.go): a write goes to a
// temporary file beside the target, synced, then renamed, so readers see the
// old or the whole new file; an existing target that is not a regular file
// is refused, a symlink is written through; CheckOutputs refuses an output
// that is the same file as an input; temporary files are removed on signals
// (RemoveTempFiles) and reclaimed after a kill -9. A run directory is locked
// by one process at a time (rundir.go).
//
// Files:
//   - torch.go, torch_pickle.go, torch_tensor.go, torch_walk.go: the PyTorch
//     .pt reader (zip format of torch >= 1.6 and the legacy format), built on
//     gopickle's pickle machine with our own classes, storages and strides.
//   - statedict.go: maps the tensors of a .pt file (state_dict, checkpoint,
//     whole nn.Module, DSQN weight lists) onto a model.Network; the plan it
//     follows is in import_*.go: import_plan.go (one chain), import_chains.go
//     (Linear candidates and chains), import_roles.go and import_groups.go
//     (sub-networks and checkpoint groups), import_branches.go (dueling and
//     actor-critic), import_arch.go and import_arch_spec.go (given sizes),
//     import_modules.go, import_classes.go and import_activations.go (a whole
//     module's own activations), import_weightlist.go and import_tensors.go.
//   - modelfile.go, safetensors.go: native model files; snnfile.go spiking
//     ones; emulatorfile.go, float64file.go, recurrentfile.go tensor files
//     with a JSON description; ann.go opens an ANN of either origin.
//   - npz.go, states.go: .npy/.npz arrays and recorded state sets.
//   - atomic.go, output.go, rundir.go, budget.go: atomic writes and the
//     output rule, run-directory locks, the read budget.
package formats
