package formats

import (
	"fmt"
	"strconv"
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

// LoadSource opens the network an SNN was converted from, as LoadANN does,
// and returns its clip-floor level count: the provenance setting
// clip_floor of a student distilled with clip-floor activations (0 when
// absent, or for a PyTorch file).
func LoadSource(path string) (*model.Network, int, error) {
	if strings.HasSuffix(path, ".pt") || strings.HasSuffix(path, ".pth") {
		net, err := LoadANN(path)
		return net, 0, err
	}
	net, meta, err := LoadModel(path)
	if err != nil {
		return nil, 0, err
	}
	levels := 0
	if v := meta.Provenance.Settings["clip_floor"]; v != "" {
		if levels, err = strconv.Atoi(v); err != nil || levels < 0 {
			return nil, 0, fmt.Errorf("%s: provenance clip_floor %q, want a level count", path, v)
		}
	}
	return net, levels, nil
}
