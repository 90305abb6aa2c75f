package main

import (
	"fmt"
	"strings"

	"github.com/spikebridge/spikebridge/convert"
	"github.com/spikebridge/spikebridge/env"
	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/model"
)

// Files the verbs read and write in the shapes convert works on: convert
// takes values, never paths (DESIGN.md), so the loading lives here.

// loadStates reads the calibration states of an .npz (formats.LoadStates)
// and checks them against a network of inputs inputs.
func loadStates(spec string, inputs int) (convert.States, []int, error) {
	data, width, labels, err := formats.LoadStates(spec, inputs)
	if err != nil {
		return convert.States{}, nil, err
	}
	st := convert.States{Data: data, Width: width}
	if err := st.Check(inputs); err != nil {
		path, _ := formats.SplitArraySpec(spec, "states")
		return convert.States{}, nil, fmt.Errorf("%s: %w", path, err)
	}
	return st, labels, nil
}

// loadedPolicy is a model file opened as a policy: it acts (env.Policy) and says
// its sizes; SNN is set for a spiking model (its counters give the cost).
type loadedPolicy struct {
	env.Policy
	Inputs, Outputs int
	SNN             *convert.SNNPolicy
}

// loadPolicy opens a model file of either kind as a policy: an ANN
// (.safetensors or PyTorch .pt) acts greedily on its Q-values and ignores
// timesteps; an SNN runs timesteps steps per decision (0: the file's default
// T). `spikebridge eval` uses it.
func loadPolicy(path string, timesteps int) (*loadedPolicy, error) {
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
			p, err := convert.NewSNNPolicy(s, timesteps)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			return &loadedPolicy{Policy: p, Inputs: s.InputSize(), Outputs: s.OutputSize(), SNN: p}, nil
		}
	}
	net, err := formats.LoadANN(path)
	if err != nil {
		return nil, err
	}
	return &loadedPolicy{Policy: model.NewQPolicy(net), Inputs: net.InputSize(), Outputs: net.OutputSize()}, nil
}

// saveRecording writes r as .npz with the arrays of the fixtures' layout:
// states (rows, width) float32, q (rows, actions) float32, actions and
// taken (rows) int64, init_states (episodes, state) float64, returns
// (episodes) float64, episode_starts (episodes) int64.
func saveRecording(path string, r *convert.Recording) error {
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
