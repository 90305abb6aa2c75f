package report

import (
	"bytes"
	"image/png"
	"math"
	"testing"
)

func TestMovingMean(t *testing.T) {
	got := MovingMean([]float64{1, 2, 3, 4, 5}, 2)
	want := []float64{1, 1.5, 2.5, 3.5, 4.5}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("MovingMean = %v, want %v", got, want)
		}
	}
	if MovingMean(nil, 3) != nil {
		t.Error("MovingMean(nil) should be nil")
	}
}

func TestWriteLearningCurve(t *testing.T) {
	c := Curve{Title: "DQN CartPole-v1 seed 1", EpisodeSteps: []float64{10, 30, 80}, Returns: []float64{10, 20, 50},
		EvalSteps: []float64{50}, EvalScores: []float64{42}, Window: 20}
	var a, b bytes.Buffer
	if err := WriteLearningCurve(&a, c); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(a.Bytes()))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	// 18 cm x 11 cm at 150 dpi.
	if w, h := img.Bounds().Dx(), img.Bounds().Dy(); w != int(math.Round(18/2.54*150)) || h != int(math.Round(11/2.54*150)) {
		t.Errorf("size %dx%d", w, h)
	}
	WriteLearningCurve(&b, c)
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("same data gave different images")
	}
	for _, bad := range []Curve{
		{EpisodeSteps: []float64{1}, Returns: nil},
		{EvalSteps: []float64{1}},
		{EpisodeSteps: []float64{1}, Returns: []float64{math.NaN()}},
	} {
		if err := WriteLearningCurve(&b, bad); err == nil {
			t.Errorf("%+v: want error", bad)
		}
	}
}
