package convert

import (
	"math"
	"reflect"
	"testing"

	"github.com/spikebridge/spikebridge/env"
	"github.com/spikebridge/spikebridge/model"
)

func TestCompareOnSeed1Policy(t *testing.T) {
	net, arrays := seed1Policy(t)
	inits := arrays["init_states"]
	const episodes = 2
	initStates := make([][]float64, episodes)
	for i := range initStates {
		initStates[i] = inits.Data[i*4 : (i+1)*4]
	}
	fixed := States{Data: arrays["states"].Float32s()[:300*4], Width: 4}
	s, _, err := Convert(net, fixed, BaselineOptions(64))
	if err != nil {
		t.Fatal(err)
	}
	e, _ := env.Make("cartpole-v1")
	opts := CompareOptions{Timesteps: []int{8, 32}, InitStates: initStates, Fixed: fixed, DecisiveMargin: 0.1}
	c, err := Compare(e, net, s, opts)
	if err != nil {
		t.Fatal(err)
	}
	// The ANN's returns are the torch policy's on the same initial states.
	for i, r := range c.ANN.Returns {
		if r != arrays["returns"].Data[i] {
			t.Errorf("ANN return %d: %v, torch %v", i, r, arrays["returns"].Data[i])
		}
	}
	if c.ANN.MACs != 4*64+64*64+64*2 {
		t.Errorf("ANN MACs %d, want 4480", c.ANN.MACs)
	}
	for _, r := range c.Results {
		// Own-trajectory agreement, recounted independently: replay the SNN
		// with recorded states and ask the ANN on each.
		p, err := NewSNNPolicy(s, r.Timesteps)
		if err != nil {
			t.Fatal(err)
		}
		res, err := env.Run(e, p, env.RunOptions{InitStates: initStates, RecordStates: true})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(res.Returns, r.SNNReturns) {
			t.Errorf("T=%d: SNN returns %v, replay %v", r.Timesteps, r.SNNReturns, res.Returns)
		}
		// Return ratio and length differences, recounted from the replay
		// and the torch policy's own returns (an episode's length is its
		// CartPole return).
		annMean, _ := MeanStd(arrays["returns"].Data[:episodes])
		if r.ReturnRatio == nil || math.Abs(*r.ReturnRatio-res.Returns[0]/annMean*0.5-res.Returns[1]/annMean*0.5) > 1e-12 {
			t.Errorf("T=%d: return_ratio %v, replay returns %v over the ANN's mean %v", r.Timesteps, r.ReturnRatio, res.Returns, annMean)
		}
		differ := 0
		for i, n := range res.Lengths {
			if float64(n) != arrays["returns"].Data[i] {
				differ++
			}
		}
		if want := float64(differ) / episodes; r.LengthDiffers != want {
			t.Errorf("T=%d: length_differs %v, replay %v", r.Timesteps, r.LengthDiffers, want)
		}
		qp := model.NewQPolicy(net)
		agree := 0
		for i, x := range res.States {
			if qp.Act(x) == res.Actions[i] {
				agree++
			}
		}
		if want := float64(agree) / float64(len(res.States)); r.AgreementOwn != want || r.OwnStates != len(res.States) {
			t.Errorf("T=%d: agreement_own %v over %d states, replay %v over %d", r.Timesteps, r.AgreementOwn, r.OwnStates, want, len(res.States))
		}
		// The analog first layer costs in*out MACs per step.
		if r.InputMACsPerDecision != float64(r.Timesteps*4*64) {
			t.Errorf("T=%d: input MACs %v, want %d", r.Timesteps, r.InputMACsPerDecision, r.Timesteps*4*64)
		}
		for name, v := range map[string]float64{"own": r.AgreementOwn, "fixed": r.AgreementFixed, "decisive": r.AgreementDecisive} {
			if v < 0 || v > 1 {
				t.Errorf("T=%d: agreement %s = %v outside [0, 1]", r.Timesteps, name, v)
			}
		}
		if r.SpikesPerDecision <= 0 || r.SynOpsPerDecision < r.SpikesPerDecision*2 {
			t.Errorf("T=%d: %v spikes and %v SynOps per decision (every spike reaches >= 2 neurons)", r.Timesteps, r.SpikesPerDecision, r.SynOpsPerDecision)
		}
	}
	// Deterministic.
	again, err := Compare(e, net, s, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, again) {
		t.Error("two identical comparisons differ")
	}
}

func TestReturnRatioAndLengthDiffers(t *testing.T) {
	for _, c := range []struct {
		snn, ann float64
		want     *float64
	}{{150, 100, ptr(1.5)}, {0, 0, ptr(1)}, {5, 0, nil}, {-50, -100, ptr(0.5)}} {
		got := returnRatio(c.snn, c.ann)
		if (got == nil) != (c.want == nil) || (got != nil && *got != *c.want) {
			t.Errorf("returnRatio(%v, %v) = %v, want %v", c.snn, c.ann, got, c.want)
		}
	}
	if got := lengthDiffers([]int{500, 20, 31, 7}, []int{500, 21, 31, 8}); got != 0.5 {
		t.Errorf("lengthDiffers = %v, want 0.5 (two of four episodes differ)", got)
	}
}

func ptr(v float64) *float64 { return &v }

func TestRecordMatchesGreedyRun(t *testing.T) {
	net, _ := seed1Policy(t)
	e, _ := env.Make("cartpole-v1")
	rec, err := Record(e, net, RecordOptions{Episodes: 2, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	want, err := env.Run(e, model.NewQPolicy(net), env.RunOptions{Episodes: 2, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rec.Returns, want.Returns) {
		t.Errorf("recorded returns %v, greedy run from the same seed %v", rec.Returns, want.Returns)
	}
	if rec.EpisodeStarts[0] != 0 || rec.EpisodeStarts[1] != want.Lengths[0] || rec.Rows() != want.Lengths[0]+want.Lengths[1] {
		t.Errorf("episode starts %v for lengths %v and %d rows", rec.EpisodeStarts, want.Lengths, rec.Rows())
	}
	ws := net.NewWorkspace(1)
	q := make([]float32, 2)
	for r := 0; r < rec.Rows(); r++ {
		net.Forward(q, rec.States[r*4:(r+1)*4], ws)
		if q[0] != rec.Q[2*r] || q[1] != rec.Q[2*r+1] || rec.Actions[r] != model.Argmax(q) || rec.Taken[r] != rec.Actions[r] {
			t.Fatalf("row %d: q %v action %d taken %d, network gives %v", r, rec.Q[2*r:2*r+2], rec.Actions[r], rec.Taken[r], q)
		}
	}
	// With ε = 0.5 about half the actions are random, so about a quarter differ from the label.
	noisy, err := Record(e, net, RecordOptions{Episodes: 3, Seed: 7, Epsilon: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	differ := 0
	for i := range noisy.Taken {
		if noisy.Taken[i] != noisy.Actions[i] {
			differ++
		}
	}
	if share := float64(differ) / float64(noisy.Rows()); math.Abs(share-0.25) > 0.08 {
		t.Errorf("ε = 0.5: %.3f of actions differ from the label over %d steps, want about 0.25", share, noisy.Rows())
	}
}
