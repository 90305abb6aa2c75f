package learn

import (
	"encoding/json"
	"fmt"

	"github.com/spikebridge/spikebridge/nef"
)

// Tensor is a named float64 tensor, row-major (the fields of
// Tensor, so the two convert into each other).
type Tensor struct {
	Name  string
	Shape []int
	Data  []float64
}

// PESMetadataKey is the __metadata__ key of a PES weights file: a JSON
// document with the format version, the channel's configuration and the
// neuron type. The tensors (float64, bit-exact) are the learned weights
// "weights" (D, n_pre), the error decoders "pre_to_error" and
// "post_to_error", and for "pre" and "post" their "encoders" (n, D),
// "gain", "bias", "max_rates", "intercepts" and "initial_voltage" (n): the
// file alone rebuilds the network and runs it from the same start.
const PESMetadataKey = "spikebridge_pes"

type pesFileMeta struct {
	FormatVersion int           `json:"format_version"`
	Kind          string        `json:"kind"`
	Config        ChannelConfig `json:"config"`
	Neuron        nef.LIF       `json:"neuron"`
}

// Parameters returns what a PES weights file holds: c's weights, ensembles
// and initial voltages as tensors, and the metadata map (PESMetadataKey).
// The slices are c's own.
func (c *Channel) Parameters() ([]Tensor, map[string]string, error) {
	meta, err := json.Marshal(pesFileMeta{FormatVersion: 1, Kind: "pes_channel", Config: c.Config, Neuron: c.Pre.Neuron})
	if err != nil {
		return nil, nil, fmt.Errorf("learn: PES metadata: %w", err)
	}
	d := c.Config.Dimensions
	tensors := []Tensor{
		{Name: "weights", Shape: []int{d, c.Pre.N}, Data: c.Weights},
		{Name: "pre_to_error", Shape: []int{d, c.Pre.N}, Data: c.PreToError},
		{Name: "post_to_error", Shape: []int{d, c.Post.N}, Data: c.PostToError},
	}
	for _, p := range []struct {
		name string
		e    *nef.Ensemble
		v0   []float64
	}{{"pre", c.Pre, c.InitialPre}, {"post", c.Post, c.InitialPost}} {
		tensors = append(tensors,
			Tensor{Name: p.name + ".encoders", Shape: []int{p.e.N, p.e.D}, Data: p.e.Encoders},
			Tensor{Name: p.name + ".gain", Shape: []int{p.e.N}, Data: p.e.Gain},
			Tensor{Name: p.name + ".bias", Shape: []int{p.e.N}, Data: p.e.Bias},
			Tensor{Name: p.name + ".max_rates", Shape: []int{p.e.N}, Data: p.e.MaxRates},
			Tensor{Name: p.name + ".intercepts", Shape: []int{p.e.N}, Data: p.e.Intercepts},
			Tensor{Name: p.name + ".initial_voltage", Shape: []int{p.e.N}, Data: p.v0})
	}
	return tensors, map[string]string{PESMetadataKey: string(meta)}, nil
}

// ChannelFromParameters rebuilds a channel from what Parameters returned
// (read back from the file path, which errors name), with learning on and
// the state reset; every tensor is checked against the configuration's sizes.
func ChannelFromParameters(tensors map[string]Tensor, md map[string]string, path string) (*Channel, error) {
	doc, ok := md[PESMetadataKey]
	if !ok {
		return nil, fmt.Errorf("learn: %s: not a PES weights file (__metadata__ has no %q entry)", path, PESMetadataKey)
	}
	var meta pesFileMeta
	if err := json.Unmarshal([]byte(doc), &meta); err != nil {
		return nil, fmt.Errorf("learn: %s: %s metadata: %w", path, PESMetadataKey, err)
	}
	if meta.FormatVersion != 1 || meta.Kind != "pes_channel" {
		return nil, fmt.Errorf("learn: %s: format version %d, kind %q; this build reads version 1, kind \"pes_channel\"", path, meta.FormatVersion, meta.Kind)
	}
	cfg := meta.Config
	if err := cfg.Check(); err != nil {
		return nil, fmt.Errorf("learn: %s: %w", path, err)
	}
	if err := meta.Neuron.Check(); err != nil {
		return nil, fmt.Errorf("learn: %s: %w", path, err)
	}
	d := cfg.Dimensions
	get := func(name string, shape ...int) ([]float64, error) {
		t, ok := tensors[name]
		if !ok {
			return nil, fmt.Errorf("learn: %s: tensor %q missing", path, name)
		}
		if fmt.Sprint(t.Shape) != fmt.Sprint(shape) {
			return nil, fmt.Errorf("learn: %s: tensor %q has shape %v, want %v", path, name, t.Shape, shape)
		}
		return t.Data, nil
	}
	ens := func(name string, n int) (*nef.Ensemble, []float64, error) {
		e := &nef.Ensemble{N: n, D: d, Neuron: meta.Neuron}
		var v0 []float64
		for _, f := range []struct {
			field *[]float64
			name  string
			shape []int
		}{{&e.Encoders, "encoders", []int{n, d}}, {&e.Gain, "gain", []int{n}}, {&e.Bias, "bias", []int{n}},
			{&e.MaxRates, "max_rates", []int{n}}, {&e.Intercepts, "intercepts", []int{n}}, {&v0, "initial_voltage", []int{n}}} {
			v, err := get(name+"."+f.name, f.shape...)
			if err != nil {
				return nil, nil, err
			}
			*f.field = v
		}
		if err := e.Check(); err != nil {
			return nil, nil, fmt.Errorf("learn: %s: %s: %w", path, name, err)
		}
		return e, v0, nil
	}
	pre, v0Pre, err := ens("pre", cfg.PreNeurons)
	if err != nil {
		return nil, err
	}
	post, v0Post, err := ens("post", cfg.PostNeurons)
	if err != nil {
		return nil, err
	}
	weights, err := get("weights", d, pre.N)
	if err != nil {
		return nil, err
	}
	preErr, err := get("pre_to_error", d, pre.N)
	if err != nil {
		return nil, err
	}
	postErr, err := get("post_to_error", d, post.N)
	if err != nil {
		return nil, err
	}
	c, err := NewChannelFrom(cfg, pre, post, preErr, postErr, weights)
	if err != nil {
		return nil, fmt.Errorf("learn: %s: %w", path, err)
	}
	c.InitialPre, c.InitialPost = v0Pre, v0Post
	c.Reset()
	return c, nil
}
