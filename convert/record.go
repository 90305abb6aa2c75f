package convert

import (
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/spikebridge/spikebridge/env"
	"github.com/spikebridge/spikebridge/model"
)

// Recording is what Record keeps: every state acted on, the teacher's
// Q-values and greedy action there (the labels), the action taken, the
// initial state and return of every episode and where each episode starts.
type Recording struct {
	Width         int
	States        []float32 // (rows, Width)
	Q             []float32 // (rows, actions): the teacher's outputs
	Actions       []int     // the teacher's argmax (labels)
	Taken         []int     // the action actually applied
	InitStates    [][]float64
	Returns       []float64
	EpisodeStarts []int
}

// Rows is the number of recorded states.
func (r *Recording) Rows() int { return len(r.Actions) }

// AsStates returns the recorded states.
func (r *Recording) AsStates() States { return States{Data: r.States, Width: r.Width} }

// Append adds the rows and episodes of o to r.
func (r *Recording) Append(o *Recording) {
	base := r.Rows()
	r.States = append(r.States, o.States...)
	r.Q = append(r.Q, o.Q...)
	r.Actions = append(r.Actions, o.Actions...)
	r.Taken = append(r.Taken, o.Taken...)
	r.InitStates = append(r.InitStates, o.InitStates...)
	r.Returns = append(r.Returns, o.Returns...)
	for _, s := range o.EpisodeStarts {
		r.EpisodeStarts = append(r.EpisodeStarts, base+s)
	}
}

// stateReader is an environment that exposes its full state (CartPole).
type stateReader interface{ State() [4]float64 }

// InitialStates returns the first n initial states e draws after Seed(seed),
// the ones env.Run plays with RunOptions{Episodes: n, Seed: seed}.
func InitialStates(e env.Env, seed uint64, n int) ([][]float64, error) {
	sr, ok := e.(stateReader)
	if !ok {
		return nil, errors.New("convert: the environment does not expose its state; give initial states explicitly")
	}
	if n <= 0 {
		return nil, fmt.Errorf("convert: %d episodes, want > 0", n)
	}
	e.Seed(seed)
	out := make([][]float64, n)
	for i := range out {
		e.Reset()
		s := sr.State()
		out[i] = s[:]
	}
	return out, nil
}

// recordingPolicy acts with actor, except for a share epsilon of steps
// where it acts uniformly at random, and labels every state with the
// teacher.
type recordingPolicy struct {
	actor   env.Policy
	teacher *model.Network
	ws      *model.Workspace
	q       []float32
	rng     *rand.Rand
	epsilon float64
	rec     *Recording
}

func (p *recordingPolicy) Act(obs []float32) int {
	p.teacher.Forward(p.q, obs, p.ws)
	label := model.Argmax(p.q)
	action := label
	if p.actor != nil {
		action = p.actor.Act(obs)
	}
	if p.epsilon > 0 && p.rng.Float64() < p.epsilon {
		action = p.rng.IntN(len(p.q))
	}
	p.rec.States = append(p.rec.States, obs...)
	p.rec.Q = append(p.rec.Q, p.q...)
	p.rec.Actions = append(p.rec.Actions, label)
	p.rec.Taken = append(p.rec.Taken, action)
	return action
}

// RecordOptions steer Record.
type RecordOptions struct {
	Episodes int
	Seed     uint64 // seeds the initial states and the random actions
	// Epsilon is the share of random actions mixed in (0 ≤ ε ≤ 1).
	Epsilon float64
	// Actor, when set, chooses the actions instead of the teacher (DAgger:
	// the student's SNN acts and the teacher labels what it visits).
	Actor env.Policy
}

// Record plays episodes on e and records every state, labelled with the
// teacher's Q-values and greedy action.
func Record(e env.Env, teacher *model.Network, opts RecordOptions) (*Recording, error) {
	if teacher == nil {
		return nil, errors.New("convert: record: no teacher network")
	}
	if !(opts.Epsilon >= 0 && opts.Epsilon <= 1) {
		return nil, fmt.Errorf("convert: record: epsilon %v, want 0..1", opts.Epsilon)
	}
	if teacher.InputSize() != e.ObservationSize() || teacher.OutputSize() != e.NumActions() {
		return nil, fmt.Errorf("convert: record: the model maps %d inputs to %d outputs, the environment has %d observations and %d actions",
			teacher.InputSize(), teacher.OutputSize(), e.ObservationSize(), e.NumActions())
	}
	inits, err := InitialStates(e, opts.Seed, opts.Episodes)
	if err != nil {
		return nil, err
	}
	rec := &Recording{Width: teacher.InputSize(), InitStates: inits}
	p := &recordingPolicy{actor: opts.Actor, teacher: teacher, ws: teacher.NewWorkspace(1),
		q: make([]float32, teacher.OutputSize()), rng: rand.New(rand.NewPCG(opts.Seed, 0xec5170)),
		epsilon: opts.Epsilon, rec: rec}
	res, err := env.Run(e, p, env.RunOptions{InitStates: inits})
	if err != nil {
		return nil, fmt.Errorf("convert: record: %w", err)
	}
	if sp, ok := opts.Actor.(*SNNPolicy); ok && sp.Err != nil {
		return nil, fmt.Errorf("convert: record: %w", sp.Err)
	}
	rec.Returns = res.Returns
	start := 0
	for _, n := range res.Lengths {
		rec.EpisodeStarts = append(rec.EpisodeStarts, start)
		start += n
	}
	return rec, nil
}
