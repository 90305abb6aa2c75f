package report

import (
	"bytes"
	"image/png"
	"strings"
	"testing"
)

func TestHeadline(t *testing.T) {
	// ±3 % of 500 is 485..515: T=8 returns too little, T=16 keeps return
	// and agreement, T=32 returns too much (a different agent too), T=64
	// has the return but only 94 % agreement, T=128 and 256 keep both.
	rows := []MethodRow{{T: 8, ReturnMean: 480, AgreeOwn: 0.99, Spikes: 10, SynOps: 20},
		{T: 16, ReturnMean: 486, ReturnStd: 3, AgreeOwn: 0.97, Spikes: 11, SynOps: 22},
		{T: 32, ReturnMean: 520, AgreeOwn: 0.99}, {T: 64, ReturnMean: 500, AgreeOwn: 0.94},
		{T: 128, ReturnMean: 514, ReturnStd: 2, AgreeOwn: 0.955, Spikes: 40, SynOps: 80}, {T: 256, ReturnMean: 500, AgreeOwn: 0.99}}
	got := Headline(MethodSummary{Name: "distill", Rows: rows}, 500, 4480)
	for _, want := range []string{"from T = 128 on", "514.0 ± 2.0", "1.03x", "95.5 %", "40 spikes", "80 synaptic", "4480"} {
		if !strings.Contains(got, want) {
			t.Errorf("headline %q lacks %q", got, want)
		}
	}
	got = Headline(MethodSummary{Name: "distill", Rows: rows[:5]}, 500, 4480)
	if !strings.Contains(got, "from T = 128 on") {
		t.Errorf("headline %q: T = 128 is the last row and keeps both", got)
	}
	got = Headline(MethodSummary{Name: "baseline", Rows: rows[:4]}, 500, 4480)
	if !strings.Contains(got, "does not keep") || !strings.Contains(got, "closest at T = 16") || !strings.Contains(got, "486.0 ± 3.0 (0.97x the ANN)") {
		t.Errorf("headline %q: T = 16 keeps both but T = 32 and 64 do not", got)
	}
}

func TestWritePipelineReport(t *testing.T) {
	src := 0.995
	s := PipelineSummary{Env: "cartpole-v1", Network: "4-64-64-2", Command: "spikebridge pipeline", Seed: 1, Imported: "p.pt",
		Episodes: 100, ANNReturnMean: 500, ANNMACs: 4480, DecisiveMargin: 0.1, States: 1000, StatesEpisodes: 60, StatesEpsilon: 0.2,
		Best: "distill", Methods: []MethodSummary{
			{Name: "baseline", File: "b.safetensors", Rows: []MethodRow{{T: 8, ReturnMean: 50, AgreeOwn: 0.6}}},
			{Name: "distill", File: "d.safetensors", Rows: []MethodRow{{T: 8, ReturnMean: 500, AgreeOwn: 0.965, AgreeSource: &src}}}},
		Stages: []StageTime{{Name: "import", Command: "spikebridge import pytorch p.pt", WallS: 1.5}, {Name: "compare", WallS: 2}}}
	var b bytes.Buffer
	if err := WritePipelineReport(&b, s); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{"Imported from `p.pt`", "| baseline | 8 | 50.0 ± 0.0 | 0.100 | 60.00 % |",
		"| distill | 8 | 500.0 ± 0.0 | 1.000 | 96.50 % | 0.00 % | 99.50 % |", "| total | 3.5 | |", "20 % random",
		"**distill** keeps the agent: from T = 8", "For comparison, **baseline** does not keep"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, FigureLearningCurve) {
		t.Error("an imported run's report links a learning curve")
	}
	if err := WritePipelineReport(&b, PipelineSummary{}); err == nil {
		t.Error("a report without methods was written")
	}
}

func TestWriteReturnsPlot(t *testing.T) {
	var b bytes.Buffer
	ts := []int{8, 16}
	err := WriteReturnsPlot(&b, "r", ts, []ReturnSeries{{Name: "a", Mean: []float64{1, 2}, Std: []float64{0, 1}}}, 500, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(&b); err != nil {
		t.Fatal(err)
	}
	if err := WriteReturnsPlot(&b, "r", ts, []ReturnSeries{{Name: "a", Mean: []float64{1}, Std: []float64{0}}}, 500, 0); err == nil {
		t.Error("a series shorter than the sweep was drawn")
	}
}
