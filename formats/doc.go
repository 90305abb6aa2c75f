// Package formats reads and writes every file spikebridge touches, without
// Python: native model files (safetensors with a JSON description), PyTorch
// .pt files, .npy/.npz data sets.
//
// Guarantees shared by all readers: sizes read from a file are checked
// against the file's length before anything is allocated; bad input gives an
// error naming the file and the tensor or layer, never a panic or a hang.
// Weights handed to package model are float32, row-major (out, in).
//
// Files:
//   - torch.go, torch_pickle.go, torch_tensor.go, torch_walk.go: the PyTorch
//     .pt reader (zip format of torch >= 1.6 and the legacy format), built on
//     gopickle's pickle machine with our own classes, storages and strides.
//   - statedict.go: maps the tensors of a .pt file (state_dict, checkpoint,
//     whole nn.Module, DSQN weight lists) onto a model.Network.
//   - modelfile.go, safetensors.go, atomic.go: native model files and atomic
//     writes.
package formats
