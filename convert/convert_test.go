package convert

import (
	"github.com/spikebridge/spikebridge/internal/testfixtures"

	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spikebridge/spikebridge/env"
	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/model"
	"github.com/spikebridge/spikebridge/snn"
)

// fixturesDir returns $SPIKEBRIDGE_FIXTURES or ../shared/fixtures next to the
// directory holding go.mod.
func fixturesDir(t testing.TB) string {
	return testfixtures.Dir(t)
}

// seed1Policy imports the shared seed-1 PyTorch policy and its expected arrays.
func seed1Policy(t testing.TB) (*model.Network, map[string]*formats.Array) {
	t.Helper()
	dir := filepath.Join(fixturesDir(t), "policies")
	net, err := formats.LoadANN(filepath.Join(dir, "torch_dqn_cartpole_seed1.pt"))
	if err != nil {
		t.Fatal(err)
	}
	arrays, err := formats.ReadNPZ(filepath.Join(dir, "torch_dqn_cartpole_seed1_expected.npz"))
	if err != nil {
		t.Fatal(err)
	}
	return net, arrays
}

// tinyNet is 2-2-1: fc1 = [[1, 0], [0, 2]], no bias; out = [0.5, -1], bias 0.25.
func tinyNet(t testing.TB) *model.Network {
	t.Helper()
	net, err := model.MLP([]int{2, 2, 1}, [][]float32{{1, 0, 0, 2}, {0.5, -1}}, [][]float32{{0, 0}, {0.25}})
	if err != nil {
		t.Fatal(err)
	}
	return net
}

func TestPercentileMatchesNumpy(t *testing.T) {
	// numpy.percentile([1, 2, 3, 4, 5], p) with linear interpolation.
	for _, c := range []struct{ p, want float64 }{{0, 1}, {50, 3}, {90, 4.6}, {99.9, 4.996}, {100, 5}} {
		got := percentile([]float32{5, 3, 1, 4, 2}, c.p)
		if math.Abs(float64(got)-c.want) > 1e-6 {
			t.Errorf("percentile(%v) = %v, want %v", c.p, got, c.want)
		}
	}
}

func TestConvertScalesWeights(t *testing.T) {
	net := tinyNet(t)
	// Hidden activations: (1, 2) and (0.5, 1): neuron-wise max (1, 2), layer-wise max 2.
	calib := States{Data: []float32{1, 1, 0.5, 0.5}, Width: 2}
	for _, c := range []struct {
		norm      Normalization
		lambda    []float32
		w1, w2    []float32
		hiddenB   []float32
		outputBia float32
	}{
		{NeuronWise, []float32{1, 2}, []float32{1, 0, 0, 1}, []float32{0.5, -2}, []float32{0, 0}, 0.25},
		{LayerWise, []float32{2, 2}, []float32{0.5, 0, 0, 1}, []float32{1, -2}, []float32{0, 0}, 0.25},
		{Unit, []float32{1, 1}, []float32{1, 0, 0, 2}, []float32{0.5, -1}, []float32{0, 0}, 0.25},
	} {
		t.Run(string(c.norm), func(t *testing.T) {
			opts := Options{Normalization: c.norm, Percentile: 100, Timesteps: 8, InitialMembrane: 0.5}
			s, rep, err := Convert(net, calib, opts)
			if err != nil {
				t.Fatal(err)
			}
			if !equal32(rep.Scales[0], c.lambda) {
				t.Errorf("scales %v, want %v", rep.Scales[0], c.lambda)
			}
			if !equal32(s.Layers[0].Weights, c.w1) || !equal32(s.Layers[1].Weights, c.w2) {
				t.Errorf("weights %v %v, want %v %v", s.Layers[0].Weights, s.Layers[1].Weights, c.w1, c.w2)
			}
			if !equal32(s.Layers[0].Bias, c.hiddenB) || s.Layers[1].Bias[0] != c.outputBia {
				t.Errorf("biases %v %v", s.Layers[0].Bias, s.Layers[1].Bias)
			}
			l := s.Layers[0]
			if l.Threshold != 1 || l.InitialMembrane != 0.5 || l.Reset != snn.ResetSubtract || l.Leak != 1 {
				t.Errorf("neurons: threshold %v, v0 %v, reset %q, leak %v; want 1, 0.5, subtract, 1", l.Threshold, l.InitialMembrane, l.Reset, l.Leak)
			}
			if s.Readout != snn.Membrane || s.OutputScale != 1 || s.Timesteps != 8 {
				t.Errorf("readout %q, scale %v, T %d", s.Readout, s.OutputScale, s.Timesteps)
			}
		})
	}
}

func equal32(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// With a constant analog current c in [0, 1] per step, a subtractive-reset IF
// neuron started at θ/2 fires floor(T c + 1/2) times, so the integrator reads
// b2 + Σ_j w2_j λ_j floor(T a_j/λ_j + 1/2) / T: the SNN's output in closed form.
func TestConvertedOutputClosedForm(t *testing.T) {
	net, err := model.MLP([]int{3, 4, 2},
		[][]float32{{0.3, -0.2, 0.5, 0.1, 0.4, -0.3, -0.6, 0.2, 0.2, 0.25, -0.1, 0.3}, {0.7, -0.4, 0.2, 0.5, -0.3, 0.6, 0.1, -0.2}},
		[][]float32{{0.05, 0.1, -0.05, 0.2}, {0.3, -0.1}})
	if err != nil {
		t.Fatal(err)
	}
	calib := States{Data: []float32{1, 0.5, -0.2, -0.3, 0.8, 0.6, 0.2, -0.9, 0.4, 0.9, 0.1, -0.7}, Width: 3}
	s, rep, err := Convert(net, calib, Options{Normalization: NeuronWise, Percentile: 100, Timesteps: 16, InitialMembrane: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	lambda := rep.Scales[0]
	layers := net.Layers()
	w1, b1, w2, b2 := layers[0].Weights, layers[0].Bias, layers[2].Weights, layers[2].Bias
	state := s.NewState(1)
	out := make([]float32, 2)
	for _, T := range []int{1, 7, 16, 100} {
		for r := 0; r < calib.Rows(); r++ {
			x := calib.Row(r)
			if _, err := s.Run(out, x, state, T); err != nil {
				t.Fatal(err)
			}
			for o := 0; o < 2; o++ {
				want := float64(b2[o])
				for j := 0; j < 4; j++ {
					a := float64(b1[j])
					for i := 0; i < 3; i++ {
						a += float64(w1[j*3+i]) * float64(x[i])
					}
					c := math.Min(math.Max(a/float64(lambda[j]), 0), 1)
					count := math.Floor(float64(T)*c + 0.5)
					want += float64(w2[o*4+j]) * float64(lambda[j]) * count / float64(T)
				}
				if math.Abs(float64(out[o])-want) > 1e-4 {
					t.Errorf("T=%d state %d output %d: SNN %v, closed form %v", T, r, o, out[o], want)
				}
			}
		}
	}
}

func TestConvertBadInput(t *testing.T) {
	good := tinyNet(t)
	calib := States{Data: []float32{1, 1, 0.5, 0.5}, Width: 2}
	opts := BaselineOptions(8)
	dense := func(name string, in, out int) model.Layer {
		return model.NewDense(name, in, out, make([]float32, in*out), nil)
	}
	mustNet := func(layers ...model.Layer) *model.Network {
		n, err := model.New(layers)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	identityHidden := mustNet(dense("fc1", 2, 2), model.NewActivation("id", model.Identity, 2), dense("fc2", 2, 1))
	reluOut := mustNet(dense("fc1", 2, 2), model.NewActivation("relu1", model.ReLU, 2))
	denseDense := mustNet(dense("fc1", 2, 2), dense("fc2", 2, 1))
	withOpts := func(f func(*Options)) Options { o := opts; f(&o); return o }
	for _, c := range []struct {
		name  string
		net   *model.Network
		calib States
		opts  Options
		want  string
	}{
		{"empty calibration", good, States{Width: 2}, opts, "no states"},
		{"wrong width", good, States{Data: []float32{1, 2, 3, 4, 5, 6}, Width: 3}, opts, "states have 3 columns, the model takes 2 inputs"},
		{"ragged", good, States{Data: []float32{1, 2, 3}, Width: 2}, opts, "not whole rows"},
		{"NaN", good, States{Data: []float32{1, 1, float32(math.NaN()), 0}, Width: 2}, opts, "state 1, column 0 is NaN"},
		{"Inf", good, States{Data: []float32{1, float32(math.Inf(1))}, Width: 2}, opts, "state 0, column 1 is +Inf"},
		{"identity hidden", identityHidden, calib, opts, `layer 1 ("id", identity)`},
		{"relu output", reluOut, calib, opts, "ReLU on the output is not supported"},
		{"dense after dense", denseDense, calib, opts, `layer 1 ("fc2", dense): follows another dense layer`},
		{"nil network", nil, calib, opts, "no network"},
		{"T = 0", good, calib, withOpts(func(o *Options) { o.Timesteps = 0 }), "timesteps 0, want T > 0"},
		{"T < 0", good, calib, withOpts(func(o *Options) { o.Timesteps = -4 }), "timesteps -4, want T > 0"},
		{"percentile 0", good, calib, withOpts(func(o *Options) { o.Percentile = 0 }), "percentile 0"},
		{"percentile > 100", good, calib, withOpts(func(o *Options) { o.Percentile = 101 }), "percentile 101"},
		{"normalization", good, calib, withOpts(func(o *Options) { o.Normalization = "channel" }), `normalization "channel"`},
		{"calibration rounds", good, calib, withOpts(func(o *Options) { o.CalibrationRounds = -1 }), "calibration rounds -1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := Convert(c.net, c.calib, c.opts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
	s, _, err := Convert(good, calib, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, T := range []int{0, -1} {
		if _, err := Agreement(good, s, calib, T); err == nil || !strings.Contains(err.Error(), "want T > 0") {
			t.Errorf("Agreement T=%d: error %v", T, err)
		}
		if _, err := NewSNNPolicy(s, T-1); err == nil || !strings.Contains(err.Error(), "want T > 0") {
			t.Errorf("NewSNNPolicy T=%d: error %v", T-1, err)
		}
	}
	e, _ := env.Make("cartpole-v1")
	if _, err := Compare(e, good, s, CompareOptions{Timesteps: []int{8, 0}, Episodes: 1}); err == nil || !strings.Contains(err.Error(), "timesteps 0") {
		t.Errorf("Compare with T=0: error %v", err)
	}
}

// On the seed-1 policy, calibration at T must lower the mean output error
// on the states it calibrated on (its objective), and conversion must be
// deterministic.
func TestCalibrationReducesOutputError(t *testing.T) {
	net, arrays := seed1Policy(t)
	all := arrays["states"].Float32s()
	calib := States{Data: all[:400*4], Width: 4}
	opts := Options{Normalization: NeuronWise, Percentile: 100, Timesteps: 8, InitialMembrane: 0.5}
	plain, _, err := Convert(net, calib, opts)
	if err != nil {
		t.Fatal(err)
	}
	opts.CalibrationRounds = 1
	calibrated, _, err := Convert(net, calib, opts)
	if err != nil {
		t.Fatal(err)
	}
	again, _, err := Convert(net, calib, opts)
	if err != nil {
		t.Fatal(err)
	}
	for l := range calibrated.Layers {
		if !equal32(calibrated.Layers[l].Weights, again.Layers[l].Weights) || !equal32(calibrated.Layers[l].Bias, again.Layers[l].Bias) {
			t.Fatalf("layer %d differs between two identical conversions", l)
		}
	}
	meanErr := func(s *snn.Network) float64 {
		ws := net.NewWorkspace(1)
		q, out := make([]float32, 2), make([]float32, 2)
		state := s.NewState(1)
		var sum float64
		for r := 0; r < calib.Rows(); r++ {
			net.Forward(q, calib.Row(r), ws)
			if _, err := s.Run(out, calib.Row(r), state, 8); err != nil {
				t.Fatal(err)
			}
			sum += math.Abs(float64(out[0]-q[0])) + math.Abs(float64(out[1]-q[1]))
		}
		return sum / float64(2*calib.Rows())
	}
	before, after := meanErr(plain), meanErr(calibrated)
	t.Logf("mean |Q_snn - Q_ann| at T=8: %.4f before, %.4f after calibration", before, after)
	if !(after < before) {
		t.Errorf("calibration did not lower the output error: %.4f -> %.4f", before, after)
	}
}
