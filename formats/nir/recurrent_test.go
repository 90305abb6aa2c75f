package nir

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/spikebridge/spikebridge/snn"
)

func TestFromRecurrent(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 4))
	for _, adaptive := range []bool{false, true} {
		net := &snn.Recurrent{Inputs: 3, Neurons: 5, Outputs: 2, Leak: math.Exp(-1.0 / 20), Threshold: 0.6,
			RefractorySteps: 5, AdaptationDecay: math.Exp(-1.0 / 2000), Adaptation: make([]float64, 5),
			ReadoutLeak: math.Exp(-1.0 / 20), Output: snn.OutputSoftmax}
		net.InputWeights = make([]float64, 15)
		net.RecurrentWeights = make([]float64, 25)
		net.OutputWeights = make([]float64, 10)
		for _, w := range [][]float64{net.InputWeights, net.RecurrentWeights, net.OutputWeights} {
			for i := range w {
				w[i] = r.NormFloat64()
			}
		}
		for i := 0; i < 5; i++ {
			net.RecurrentWeights[i*5+i] = 0
			if adaptive && i%2 == 0 {
				net.Adaptation[i] = 1.7
			}
		}
		g, grades, err := FromRecurrent(net, ExportOptions{DT: 1e-3, Source: "eprop.safetensors", Tool: "test"})
		if err != nil {
			t.Fatal(err)
		}
		want := Approximate
		if adaptive {
			want = Unsupported
		}
		if Worst(grades) != want || g.Metadata["fidelity"] != string(want) {
			t.Errorf("adaptive %v: grades %+v", adaptive, grades)
		}
		var b bytes.Buffer
		if err := g.Write(&b); err != nil {
			t.Fatal(err)
		}
		back, err := Read(bytes.NewReader(b.Bytes()), int64(b.Len()))
		if err != nil {
			t.Fatal(err)
		}
		lif := back.Nodes["lif"]
		tau, _, _ := lif.param("tau")
		rr, _, _ := lif.param("r")
		// NIR's LIF over one step (input held): v = a v + (1-a) r I with
		// a = exp(-dt/τ); ours: v = Leak v + I.
		a := math.Exp(-1e-3 / tau[0])
		if math.Abs(a-net.Leak) > 1e-15 || math.Abs((1-a)*rr[0]-1) > 1e-12 {
			t.Errorf("decay %v (want %v), input gain %v (want 1)", a, net.Leak, (1-a)*rr[0])
		}
		li := back.Nodes["readout"]
		tauOut, _, _ := li.param("tau")
		if k := math.Exp(-1e-3 / tauOut[0]); math.Abs(k-net.ReadoutLeak) > 1e-15 {
			t.Errorf("readout decay %v, want %v", k, net.ReadoutLeak)
		}
		for name, w := range map[string][]float64{"w_in": net.InputWeights, "w_rec": net.RecurrentWeights, "w_out": net.OutputWeights} {
			got, _, _ := back.Nodes[name].param("weight")
			for i := range w {
				if got[i] != w[i] {
					t.Fatalf("%s [%d] = %v, want %v", name, i, got[i], w[i])
				}
			}
		}
		if _, _, err := ToSNN(back, ImportOptions{}); !errors.Is(err, ErrUnsupported) {
			t.Errorf("importing the recurrent graph: %v, want ErrUnsupported", err)
		}
	}
}
