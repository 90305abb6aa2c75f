package model

import (
	"fmt"
	"strconv"
	"strings"
)

// Network is an immutable, validated stack of layers.
type Network struct {
	layers   []Layer
	maxWidth int
	// transposed[i] holds layer i's weights as (in, out) for the forward
	// kernels; nil for layers without weights.
	transposed [][]float32
}

// New validates layers and returns the network. Consecutive layers must
// agree on sizes and names must be unique; errors name the offending layer.
// The layer slices are used as given (not copied); do not modify them after:
// the forward pass also keeps a transposed copy of every weight matrix.
func New(layers []Layer) (*Network, error) {
	if len(layers) == 0 {
		return nil, fmt.Errorf("model: a network needs at least one layer")
	}
	seen := make(map[string]int, len(layers))
	maxWidth := 0
	for i, l := range layers {
		if err := l.validate(i); err != nil {
			return nil, err
		}
		if j, dup := seen[l.Name]; dup {
			return nil, fmt.Errorf("model: layer %d (%q): name already used by layer %d", i, l.Name, j)
		}
		seen[l.Name] = i
		if i > 0 && layers[i-1].Out != l.In {
			return nil, fmt.Errorf("model: layer %d (%q, %s): input size %d does not match the %d outputs of layer %d (%q)",
				i, l.Name, l.Kind, l.In, layers[i-1].Out, i-1, layers[i-1].Name)
		}
		maxWidth = max(maxWidth, l.In, l.Out)
	}
	transposed := make([][]float32, len(layers))
	for i, l := range layers {
		if l.Kind == Dense {
			transposed[i] = transpose(l.Weights, l.Out, l.In)
		}
	}
	return &Network{layers: layers, maxWidth: maxWidth, transposed: transposed}, nil
}

// transpose returns the (cols, rows) copy of a row-major (rows, cols) matrix.
func transpose(m []float32, rows, cols int) []float32 {
	t := make([]float32, len(m))
	transposeInto(t, m, rows, cols)
	return t
}

func transposeInto(t, m []float32, rows, cols int) {
	for r := 0; r < rows; r++ {
		for c, v := range m[r*cols : (r+1)*cols] {
			t[c*rows+r] = v
		}
	}
}

// MLP builds a Dense/ReLU stack from sizes (e.g. 4, 64, 64, 2) with the given
// parameters per Dense layer: ReLU between Dense layers, Identity at the end.
// Layers are named fc1, relu1, fc2, ..., out.
func MLP(sizes []int, weights, biases [][]float32) (*Network, error) {
	if len(sizes) < 2 {
		return nil, fmt.Errorf("model: an MLP needs at least 2 sizes, got %v", sizes)
	}
	nDense := len(sizes) - 1
	if len(weights) != nDense || len(biases) != nDense {
		return nil, fmt.Errorf("model: MLP %v needs %d weight and bias tensors, got %d and %d",
			sizes, nDense, len(weights), len(biases))
	}
	var layers []Layer
	for i := 0; i < nDense; i++ {
		layers = append(layers, NewDense("fc"+strconv.Itoa(i+1), sizes[i], sizes[i+1], weights[i], biases[i]))
		if i < nDense-1 {
			layers = append(layers, NewActivation("relu"+strconv.Itoa(i+1), ReLU, sizes[i+1]))
		}
	}
	layers = append(layers, NewActivation("out", Identity, sizes[nDense]))
	return New(layers)
}

// Layers returns the layers in order. The slice is shared: do not modify it.
func (n *Network) Layers() []Layer { return n.layers }

// InputSize is the number of input features.
func (n *Network) InputSize() int { return n.layers[0].In }

// OutputSize is the number of outputs (Q-values, classes, regression targets).
func (n *Network) OutputSize() int { return n.layers[len(n.layers)-1].Out }

// MACs is the multiply-accumulate count of one single-sample forward pass.
func (n *Network) MACs() int {
	total := 0
	for _, l := range n.layers {
		total += l.MACs()
	}
	return total
}

// Sizes returns the widths along the network: input, then each Dense output.
func (n *Network) Sizes() []int {
	sizes := []int{n.InputSize()}
	for _, l := range n.layers {
		if l.Kind == Dense {
			sizes = append(sizes, l.Out)
		}
	}
	return sizes
}

// String gives a short architecture summary such as "4-64-64-2".
func (n *Network) String() string {
	var parts []string
	for _, s := range n.Sizes() {
		parts = append(parts, strconv.Itoa(s))
	}
	return strings.Join(parts, "-")
}

// Refresh must be called after a layer's Weights were changed in place (a
// trainer that shares its parameter slices with the network does this after
// every update): the forward kernels read a transposed copy, which Refresh
// rebuilds without allocating.
func (n *Network) Refresh() {
	for i, l := range n.layers {
		if l.Kind == Dense {
			transposeInto(n.transposed[i], l.Weights, l.Out, l.In)
		}
	}
}
