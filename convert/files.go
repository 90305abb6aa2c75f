package convert

import (
	"fmt"
	"math"
	"strings"

	"github.com/spikebridge/spikebridge/env"
	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/model"
	"github.com/spikebridge/spikebridge/snn"
)

// LoadANN opens an ANN: a spikebridge model file (.safetensors) or a
// PyTorch file (.pt/.pth, imported with formats.TorchToNetwork).
func LoadANN(path string) (*model.Network, error) {
	if strings.HasSuffix(path, ".pt") || strings.HasSuffix(path, ".pth") {
		tf, err := formats.LoadTorch(path)
		if err != nil {
			return nil, err
		}
		imp, err := formats.TorchToNetwork(tf, formats.ImportOptions{})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return imp.Network, nil
	}
	kind, err := formats.ModelKind(path)
	if err != nil {
		return nil, err
	}
	if kind == formats.ModelKindSNN {
		return nil, fmt.Errorf("%s: a spiking model file, want an ANN", path)
	}
	net, _, err := formats.LoadModel(path)
	return net, err
}

// Policy is a model file opened as a policy: it acts (env.Policy) and says
// its sizes; SNN is set for a spiking model (its counters give the cost).
type Policy struct {
	env.Policy
	Inputs, Outputs int
	SNN             *SNNPolicy
}

// LoadPolicy opens a model file of either kind as a policy: an ANN
// (.safetensors or PyTorch .pt) acts greedily on its Q-values and ignores
// timesteps; an SNN runs timesteps steps per decision (0: the file's default
// T). `spikebridge eval` uses it.
func LoadPolicy(path string, timesteps int) (*Policy, error) {
	if timesteps < 0 {
		return nil, fmt.Errorf("--timesteps %d, want T > 0 (0: the model file's default)", timesteps)
	}
	if !strings.HasSuffix(path, ".pt") && !strings.HasSuffix(path, ".pth") {
		kind, err := formats.ModelKind(path)
		if err != nil {
			return nil, err
		}
		if kind == formats.ModelKindSNN {
			s, _, err := formats.LoadSNN(path)
			if err != nil {
				return nil, err
			}
			p, err := NewSNNPolicy(s, timesteps)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			return &Policy{Policy: p, Inputs: s.InputSize(), Outputs: s.OutputSize(), SNN: p}, nil
		}
	}
	net, err := LoadANN(path)
	if err != nil {
		return nil, err
	}
	return &Policy{Policy: model.NewQPolicy(net), Inputs: net.InputSize(), Outputs: net.OutputSize()}, nil
}

// LoadSNN opens a spiking model file.
func LoadSNN(path string) (*snn.Network, formats.SNNMeta, error) { return formats.LoadSNN(path) }

// SaveRecording writes r as .npz with the arrays of the fixtures' layout:
// states (rows, width) float32, q (rows, actions) float32, actions and
// taken (rows) int64, init_states (episodes, state) float64, returns
// (episodes) float64, episode_starts (episodes) int64.
func SaveRecording(path string, r *Recording) error {
	rows := r.Rows()
	if rows == 0 {
		return fmt.Errorf("%s: nothing recorded", path)
	}
	actions := len(r.Q) / rows
	var inits []float64
	stateWidth := 0
	for _, s := range r.InitStates {
		stateWidth = len(s)
		inits = append(inits, s...)
	}
	return formats.WriteNPZ(path, []*formats.Array{
		formats.NewFloat32Array("states", []int{rows, r.Width}, r.States),
		formats.NewFloat32Array("q", []int{rows, actions}, r.Q),
		formats.NewInt64Array("actions", []int{rows}, r.Actions),
		formats.NewInt64Array("taken", []int{rows}, r.Taken),
		formats.NewFloat64Array("init_states", []int{len(r.InitStates), stateWidth}, inits),
		formats.NewFloat64Array("returns", []int{len(r.Returns)}, r.Returns),
		formats.NewInt64Array("episode_starts", []int{len(r.EpisodeStarts)}, r.EpisodeStarts),
	})
}

// LoadStates reads the calibration states of an .npz (array "states", or
// the array named by "FILE.npz:array"; shape (rows, width)) and checks them
// against a network of inputs inputs. It also returns the file's "actions"
// labels when present.
func LoadStates(spec string, inputs int) (States, []int, error) {
	path, name := formats.SplitArraySpec(spec, "states")
	arrays, err := formats.ReadNPZ(path)
	if err != nil {
		return States{}, nil, err
	}
	a, ok := arrays[name]
	if !ok {
		return States{}, nil, fmt.Errorf("%s: no array %q (want (rows, %d) calibration states)", path, name, inputs)
	}
	if len(a.Shape) != 2 {
		return States{}, nil, fmt.Errorf("%s: array %q has shape %v, want (rows, %d)", path, name, a.Shape, inputs)
	}
	st := States{Data: a.Float32s(), Width: a.Shape[1]}
	if a.Shape[0] == 0 {
		st.Data = nil
	}
	if err := st.Check(inputs); err != nil {
		return States{}, nil, fmt.Errorf("%s: %w", path, err)
	}
	var labels []int
	if la, ok := arrays["actions"]; ok {
		if la.Len() != st.Rows() {
			return States{}, nil, fmt.Errorf("%s: array \"actions\" holds %d labels for %d states", path, la.Len(), st.Rows())
		}
		for i, v := range la.Data {
			if v != math.Trunc(v) || v < 0 {
				return States{}, nil, fmt.Errorf("%s: array \"actions\": label %d is %v, want an action index", path, i, v)
			}
			labels = append(labels, int(v))
		}
	}
	return st, labels, nil
}
