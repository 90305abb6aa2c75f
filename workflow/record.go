package workflow

import (
	"fmt"
	"io"

	"github.com/spikebridge/spikebridge/convert"
	"github.com/spikebridge/spikebridge/env"
	"github.com/spikebridge/spikebridge/formats"
)

// MaxEpisodes bounds the episodes of one job (recorded, compared, played
// by the teacher): beyond it the episode lists alone outgrow a machine.
const MaxEpisodes = 10_000_000

// RecordOptions says which network plays which episodes into which file.
type RecordOptions struct {
	Model    string  // the ANN (.safetensors or PyTorch .pt)
	Env      string  // cartpole-v1 or cartpole-v0
	Episodes int     // 1 to MaxEpisodes
	Seed     uint64  // initial states and random actions
	Epsilon  float64 // share of uniformly random actions, 0..1
	Out      string  // the .npz to write
}

// RecordResult is what Record wrote (record --json).
type RecordResult struct {
	Out         string  `json:"out"`
	Model       string  `json:"-"` // the network played (in the text only)
	Episodes    int     `json:"episodes"`
	States      int     `json:"states"`
	Epsilon     float64 `json:"epsilon"`
	ReturnsMean float64 `json:"returns_mean"`
	ReturnsStd  float64 `json:"returns_std"`
}

// Record plays opts.Episodes with the network (epsilon-greedy) and writes
// every state acted on with its Q-values and actions into opts.Out.
func Record(opts RecordOptions) (RecordResult, error) {
	if opts.Episodes < 1 || opts.Episodes > MaxEpisodes {
		return RecordResult{}, invalidf("{Episodes} %d: want 1 to %d", opts.Episodes, MaxEpisodes)
	}
	if !(opts.Epsilon >= 0 && opts.Epsilon <= 1) {
		return RecordResult{}, invalidf("{Epsilon} %v: want a share in 0..1", opts.Epsilon)
	}
	e, err := env.Make(opts.Env)
	if err != nil {
		return RecordResult{}, invalidf("{Env}: %v", err)
	}
	net, err := formats.LoadANN(opts.Model)
	if err != nil {
		return RecordResult{}, err
	}
	rec, err := convert.Record(e, net, convert.RecordOptions{Episodes: opts.Episodes, Seed: opts.Seed, Epsilon: opts.Epsilon})
	if err != nil {
		return RecordResult{}, fmt.Errorf("%s: %w", opts.Model, err)
	}
	if err := saveRecording(opts.Out, rec); err != nil {
		return RecordResult{}, err
	}
	res := RecordResult{Out: opts.Out, Model: opts.Model, Episodes: len(rec.Returns), States: rec.Rows(), Epsilon: opts.Epsilon}
	res.ReturnsMean, res.ReturnsStd = convert.MeanStd(rec.Returns)
	return res, nil
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

// WriteText writes the result for people: one line.
func (r RecordResult) WriteText(w io.Writer) error {
	_, err := fmt.Fprintf(w, "%s: %d states from %d episodes of %s (epsilon %g), return %.2f ± %.2f\n",
		r.Out, r.States, r.Episodes, r.Model, r.Epsilon, r.ReturnsMean, r.ReturnsStd)
	return err
}
