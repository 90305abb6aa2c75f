package formats

import (
	"fmt"
	"strings"

	"github.com/spikebridge/spikebridge/model"
)

// LoadANN opens an ANN: a spikebridge model file (.safetensors) or a
// PyTorch file (.pt/.pth, imported with TorchToNetwork).
func LoadANN(path string) (*model.Network, error) {
	if strings.HasSuffix(path, ".pt") || strings.HasSuffix(path, ".pth") {
		tf, err := LoadTorch(path)
		if err != nil {
			return nil, err
		}
		imp, err := TorchToNetwork(tf, ImportOptions{})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return imp.Network, nil
	}
	kind, err := ModelKind(path)
	if err != nil {
		return nil, err
	}
	if kind == ModelKindSNN {
		return nil, fmt.Errorf("%s: a spiking model file, want an ANN", path)
	}
	net, _, err := LoadModel(path)
	return net, err
}
