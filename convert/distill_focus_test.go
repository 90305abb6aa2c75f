package convert

import (
	"math"
	"slices"
	"testing"

	"github.com/spikebridge/spikebridge/env"
	"github.com/spikebridge/spikebridge/model"
)

// constructedRecording builds a one-wide recording whose state on row r is
// base+r, with the given episode lengths, teacher labels and taken actions.
func constructedRecording(base float32, lengths []int, labels, taken []int) *Recording {
	rec := &Recording{Width: 1, Actions: labels, Taken: taken}
	start := 0
	for _, n := range lengths {
		rec.EpisodeStarts = append(rec.EpisodeStarts, start)
		rec.Returns = append(rec.Returns, float64(n))
		start += n
	}
	for r := range labels {
		rec.States = append(rec.States, base+float32(r))
	}
	return rec
}

// Of two paired episodes, only the one whose lengths differ contributes:
// the SNN's states within the window of its first action that is not the
// teacher's, then the teacher's last states before its episode ended.
func TestPairEpisodesCollectsTheDecisiveStates(t *testing.T) {
	// Episode 0: the SNN first departs from the teacher at its row 3 and
	// lasts 7 steps; the teacher's own episode lasts 5. Episode 1: both
	// last 3 steps (the SNN departs at row 8 but the length is the same).
	actor := constructedRecording(100, []int{7, 3},
		[]int{0, 1, 0, 1, 1, 0, 0 /**/, 1, 1, 0},
		[]int{0, 1, 0, 0, 1, 1, 0 /**/, 1, 0, 0})
	teacher := constructedRecording(200, []int{5, 3},
		[]int{1, 1, 0, 0, 1 /**/, 0, 1, 1},
		[]int{1, 1, 0, 0, 1 /**/, 0, 1, 1})
	p := pairEpisodes(actor, teacher, 1, 2)
	wantStates := []float32{102, 103, 104, 203, 204}
	wantLabels := []int{0, 1, 1, 0, 1}
	if !slices.Equal(p.Focus, wantStates) || !slices.Equal(p.Labels, wantLabels) {
		t.Errorf("focus states %v labels %v, want %v and %v", p.Focus, p.Labels, wantStates, wantLabels)
	}
	if p.LengthDiffers != 0.5 {
		t.Errorf("length differs on %v of the pairs, want 0.5", p.LengthDiffers)
	}
	if want := (7.0 + 3) / (5 + 3); math.Abs(p.Ratio-want) > 1e-12 {
		t.Errorf("return ratio %v, want %v", p.Ratio, want)
	}
	// The window is clipped to the episode: a departure at the SNN's first
	// step with a window of 3 takes rows 0..3 of a 4-step episode only.
	actor = constructedRecording(0, []int{4, 2}, []int{1, 0, 0, 0, 1, 1}, []int{0, 0, 0, 0, 1, 1})
	teacher = constructedRecording(50, []int{6, 2}, []int{0, 0, 0, 0, 0, 1, 0, 0}, []int{0, 0, 0, 0, 0, 1, 0, 0})
	p = pairEpisodes(actor, teacher, 3, 10)
	if want := []float32{0, 1, 2, 3, 50, 51, 52, 53, 54, 55}; !slices.Equal(p.Focus, want) {
		t.Errorf("clipped focus %v, want %v", p.Focus, want)
	}
}

// alwaysFirst acts 0 on every observation.
type alwaysFirst struct{}

func (alwaysFirst) Act([]float32) int { return 0 }

// With Focus, a round adds, after the states the SNN visited, Focus copies
// of the decisive states: here a student that always pushes left fails
// within a few steps where the teacher balances for 500, so every pair
// differs; its window around the first step where the teacher pushes right
// and the teacher's last FocusTail states are repeated.
func TestDistillFocusRepeatsTheDecisiveStates(t *testing.T) {
	teacher, _ := seed1Policy(t)
	e, err := env.Make("cartpole-v1")
	if err != nil {
		t.Fatal(err)
	}
	calib, err := Record(e, teacher, RecordOptions{Episodes: 1, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	left, err := model.MLP([]int{4, 2, 2}, [][]float32{make([]float32, 8), make([]float32, 4)}, [][]float32{{1, 1}, {1, 0}})
	if err != nil {
		t.Fatal(err)
	}
	var rows []States
	var labels [][]int
	trainer := func(s States, l []int, _ []float32, _ int, _ *model.Network, _ int, _ uint64) (*model.Network, float64, error) {
		rows = append(rows, States{Data: append([]float32(nil), s.Data...), Width: s.Width})
		labels = append(labels, append([]int(nil), l...))
		return left, 1, nil
	}
	cOpts, err := MethodOptions(MethodDistill, 8, 0)
	if err != nil {
		t.Fatal(err)
	}
	const focus, window, tail, episodes, seed = 3, 2, 4, 2, 7
	d, err := Distill(e, teacher, calib.AsStates(), DistillOptions{Convert: cOpts, Timesteps: 8, Rounds: 1, Episodes: episodes,
		FirstEpochs: 1, RoundEpochs: 1, Seed: seed, Train: trainer, Focus: focus, FocusWindow: window, FocusTail: tail})
	if err != nil {
		t.Fatal(err)
	}
	// The same episodes, played independently: the student's SNN acts as
	// alwaysFirst, the teacher greedily, from the round's initial states.
	visited, err := Record(e, teacher, RecordOptions{Episodes: episodes, Seed: seed*1000 + 1, Actor: alwaysFirst{}})
	if err != nil {
		t.Fatal(err)
	}
	own, err := Record(e, teacher, RecordOptions{Episodes: episodes, Seed: seed*1000 + 1})
	if err != nil {
		t.Fatal(err)
	}
	var want []float32
	var wantLabels []int
	for i := range episodes {
		s, end := episodeBounds(visited, i)
		ts, te := episodeBounds(own, i)
		if end-s >= te-ts {
			t.Fatalf("episode %d: left-only lasts %d steps, the teacher %d: want it shorter", i, end-s, te-ts)
		}
		first := s
		for visited.Actions[first] == 0 {
			first++
		}
		for r := max(first-window, s); r <= min(first+window, end-1); r++ {
			want = append(want, visited.States[4*r:4*r+4]...)
			wantLabels = append(wantLabels, visited.Actions[r])
		}
		want = append(want, own.States[4*(te-tail):4*te]...)
		wantLabels = append(wantLabels, own.Actions[te-tail:te]...)
	}
	visitedMean, _ := MeanStd(visited.Returns)
	ownMean, _ := MeanStd(own.Returns)
	if r := d.Rounds[0]; r.PairedLengthDiffers != 1 || math.Abs(r.PairedReturnRatio-visitedMean/ownMean) > 1e-12 {
		t.Errorf("round: lengths differ on %v of the pairs, return ratio %v; want 1 and %v", r.PairedLengthDiffers, r.PairedReturnRatio, visitedMean/ownMean)
	}
	if len(rows) != 2 {
		t.Fatalf("%d trainings, want 2", len(rows))
	}
	base := calib.Rows() + visited.Rows()
	if !slices.Equal(rows[1].Data[:4*calib.Rows()], calib.States) || !slices.Equal(rows[1].Data[4*calib.Rows():4*base], visited.States) {
		t.Fatal("the second training does not start with the calibration and the visited states")
	}
	extra, extraLabels := rows[1].Data[4*base:], labels[1][base:]
	if len(extraLabels) != focus*len(wantLabels) {
		t.Fatalf("%d focus rows, want %d copies of %d", len(extraLabels), focus, len(wantLabels))
	}
	for c := range focus {
		n := len(wantLabels)
		if !slices.Equal(extra[4*c*n:4*(c+1)*n], want) || !slices.Equal(extraLabels[c*n:(c+1)*n], wantLabels) {
			t.Errorf("focus copy %d differs from the decisive states", c)
		}
	}
	if _, err := Distill(e, teacher, calib.AsStates(), DistillOptions{Convert: cOpts, Timesteps: 8, Rounds: 1, Episodes: 1,
		FirstEpochs: 1, RoundEpochs: 1, Train: trainer, Focus: 1, FocusTail: -1}); err == nil {
		t.Error("Distill with a focus tail of -1: no error")
	}
}
