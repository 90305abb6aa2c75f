package train

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/spikebridge/spikebridge/model"
)

// qParams holds an MLP's parameters as flat float32 slices, weights (out, in)
// row-major and biases (out), in layer order. The same slices back the
// plain-Go model.Network used for acting and the Gorgonia nodes used for
// gradients, so an optimiser step is seen by both without copying.
type qParams struct {
	sizes   []int
	weights [][]float32
	biases  [][]float32
}

func newQParams(sizes []int) *qParams {
	p := &qParams{sizes: append([]int(nil), sizes...)}
	for i := 0; i+1 < len(sizes); i++ {
		p.weights = append(p.weights, make([]float32, sizes[i]*sizes[i+1]))
		p.biases = append(p.biases, make([]float32, sizes[i+1]))
	}
	return p
}

// initTorchDefault draws every parameter from U(-1/sqrt(in), 1/sqrt(in)), the
// distribution of torch.nn.Linear's default initialisation.
func (p *qParams) initTorchDefault(rng *rand.Rand) {
	for l := range p.weights {
		bound := 1 / math.Sqrt(float64(p.sizes[l]))
		for i := range p.weights[l] {
			p.weights[l][i] = float32((2*rng.Float64() - 1) * bound)
		}
		for i := range p.biases[l] {
			p.biases[l][i] = float32((2*rng.Float64() - 1) * bound)
		}
	}
}

// tensors lists the parameter slices in the fixed order W1, b1, W2, b2, ...;
// optimiser state and checkpoints are indexed by this order.
func (p *qParams) tensors() [][]float32 {
	var out [][]float32
	for l := range p.weights {
		out = append(out, p.weights[l], p.biases[l])
	}
	return out
}

func (p *qParams) copyFrom(src *qParams) {
	for l := range p.weights {
		copy(p.weights[l], src.weights[l])
		copy(p.biases[l], src.biases[l])
	}
}

// polyak moves p towards src: p = (1 - tau) p + tau src.
func (p *qParams) polyak(src *qParams, tau float32) {
	for l := range p.weights {
		for i, v := range src.weights[l] {
			p.weights[l][i] += tau * (v - p.weights[l][i])
		}
		for i, v := range src.biases[l] {
			p.biases[l][i] += tau * (v - p.biases[l][i])
		}
	}
}

// network returns a model.Network built on p's slices. The network's kernels
// read a transposed copy, so after changing p in place call its Refresh.
// Layers are named fc1, relu1, ..., out as model.MLP names them.
func (p *qParams) network() *model.Network {
	net, err := model.MLP(p.sizes, p.weights, p.biases)
	if err != nil {
		// Sizes were validated by Config.Validate and parameters are finite
		// unless training diverged; either is a bug worth a clear panic.
		panic(fmt.Sprintf("train: building the Q-network: %v", err))
	}
	return net
}

// snapshot returns an independent copy (for keep-best).
func (p *qParams) snapshot() *qParams {
	c := newQParams(p.sizes)
	c.copyFrom(p)
	return c
}
