package formats

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sbinet/npyio/npz"

	"github.com/spikebridge/spikebridge/env"
	"github.com/spikebridge/spikebridge/model"
)

// TestTorchToNetworkFixtures imports every network-shaped fixture and checks
// the architecture, the layout, the unmapped list and the first weights
// against the fixture's JSON (an independent record written by torch).
func TestTorchToNetworkFixtures(t *testing.T) {
	cases := []struct {
		file        string
		opts        ImportOptions
		arch        string
		layout      string
		unmapped    int
		biases      []bool
		errContains string
	}{
		{file: "cartpole_mlp_state_dict", arch: "4-16-16-2", layout: LayoutOutIn, biases: []bool{true, true, true}},
		{file: "cartpole_mlp_legacy", arch: "4-16-16-2", layout: LayoutOutIn, biases: []bool{true, true, true}},
		{file: "cartpole_mlp_float64", arch: "4-16-16-2", layout: LayoutOutIn, biases: []bool{true, true, true}},
		{file: "cartpole_mlp_float16", arch: "4-16-16-2", layout: LayoutOutIn, biases: []bool{true, true, true}},
		{file: "cartpole_mlp_bfloat16", arch: "4-16-16-2", layout: LayoutOutIn, biases: []bool{true, true, true}},
		{file: "cartpole_mlp_module", arch: "4-16-16-2", layout: LayoutOutIn, biases: []bool{true, true, true}},
		{file: "cartpole_checkpoint", arch: "4-16-16-2", layout: LayoutOutIn, unmapped: 18, biases: []bool{true, true, true}},
		{file: "cartpole_sequential_state_dict", arch: "4-64-64-2", layout: LayoutOutIn, biases: []bool{true, true, true}},
		{file: "spiking_qnet_state_dict", arch: "4-32-32-2", layout: LayoutOutIn, unmapped: 4, biases: []bool{false, false, false}},
		{file: "dsqn_tuple_weights_biases", arch: "4-16-16-2", layout: LayoutInOut, biases: []bool{true, true, false}},
		{file: "dsqn_bare_weight_list", arch: "4-16-16-2", layout: LayoutInOut, biases: []bool{false, false, false}},
		{file: "convnet_state_dict", errContains: "not yet convertible: conv1.weight (4-d)"},
		{file: "convnet_state_dict", opts: ImportOptions{Arch: "144-2"}, arch: "144-2", layout: LayoutOutIn, unmapped: 7, biases: []bool{true}},
		{file: "cartpole_mlp_state_dict", opts: ImportOptions{Arch: "4-16-16-2:relu", Layout: LayoutOutIn}, arch: "4-16-16-2", layout: LayoutOutIn, biases: []bool{true, true, true}},
		{file: "cartpole_checkpoint", opts: ImportOptions{Prefix: "model."}, arch: "4-16-16-2", layout: LayoutOutIn, unmapped: 18, biases: []bool{true, true, true}},
		{file: "dsqn_tuple_weights_biases", opts: ImportOptions{Layout: LayoutOutIn}, errContains: "do not chain as out-in"},
		{file: "cartpole_mlp_state_dict", opts: ImportOptions{Arch: "4-64-2"}, errContains: "arch 4-64-2 does not match the tensors"},
	}
	dir := torchFixtures(t, "pytorch")
	for _, c := range cases {
		t.Run(c.file+"/"+c.opts.Arch+c.opts.Layout+c.opts.Prefix, func(t *testing.T) {
			tf, err := LoadTorch(filepath.Join(dir, c.file+".pt"))
			if err != nil {
				t.Fatal(err)
			}
			imp, err := TorchToNetwork(tf, c.opts)
			if c.errContains != "" {
				if err == nil || !strings.Contains(err.Error(), c.errContains) {
					t.Fatalf("error %v, want one containing %q", err, c.errContains)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := imp.Network.String(); got != c.arch || imp.Layout != c.layout {
				t.Errorf("imported %s (%s), want %s (%s)", got, imp.Layout, c.arch, c.layout)
			}
			if len(imp.Unmapped) != c.unmapped {
				t.Errorf("%d unmapped tensors, want %d: %v", len(imp.Unmapped), c.unmapped, imp.Unmapped)
			}
			for _, u := range imp.Unmapped {
				// A tensor outside the prefix names the value, not a CLI flag.
				if outside := !strings.HasPrefix(u.Name, c.opts.Prefix); outside != (u.Reason == fmt.Sprintf("name outside the prefix %q", c.opts.Prefix)) {
					t.Errorf("unmapped %s: reason %q (prefix %q)", u.Name, u.Reason, c.opts.Prefix)
				}
			}
			checkImportedWeights(t, imp, filepath.Join(dir, c.file+".json"), c.biases)
		})
	}
}

// checkImportedWeights compares each Dense layer's first weights with the
// fixture's first5 (transposed for (in, out) files) and checks the biases.
func checkImportedWeights(t *testing.T, imp *TorchImport, jsonPath string, biases []bool) {
	t.Helper()
	raw, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var want torchFixtureJSON
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	var dense []model.Layer
	for _, l := range imp.Network.Layers() {
		if l.Kind == model.Dense {
			dense = append(dense, l)
		}
	}
	if len(dense) != len(biases) || len(imp.Layers) != len(dense) {
		t.Fatalf("%d dense layers (%d in the report), want %d", len(dense), len(imp.Layers), len(biases))
	}
	for i, l := range dense {
		if (l.Bias != nil) != biases[i] || (imp.Layers[i].Bias != "") != biases[i] {
			t.Errorf("layer %s: has bias %v, want %v", l.Name, l.Bias != nil, biases[i])
		}
		var first5 []float64
		transposed := false
		if want.Weights != nil {
			first5, transposed = want.Weights[i].First5, true
		} else {
			first5 = want.Tensors[imp.Layers[i].Weight].First5
		}
		if len(first5) == 0 {
			t.Fatalf("layer %s: no first5 for %s in the fixture", l.Name, imp.Layers[i].Weight)
		}
		for k, w := range first5 {
			idx := k // (out, in) files: the first row
			if transposed {
				// (in, out) files: flat element k is W[k/out][k%out].
				idx = (k%l.Out)*l.In + k/l.Out
			}
			if l.Weights[idx] != float32(w) {
				t.Errorf("layer %s: weight %d is %v, want %v", l.Name, idx, l.Weights[idx], float32(w))
			}
		}
	}
	// The last layer is linear: an identity output.
	layers := imp.Network.Layers()
	if last := layers[len(layers)-1]; last.Kind != model.Identity {
		t.Errorf("last layer %s is %s, want identity", last.Name, last.Kind)
	}
}

// TestTorchToNetworkDSQNForward runs the imported DSQN network against a
// float64 forward pass written directly on the (in, out) tensors: y = x W + b.
func TestTorchToNetworkDSQNForward(t *testing.T) {
	tf, err := LoadTorch(filepath.Join(torchFixtures(t, "pytorch"), "dsqn_tuple_weights_biases.pt"))
	if err != nil {
		t.Fatal(err)
	}
	imp, err := TorchToNetwork(tf, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	ws := imp.Network.NewWorkspace(1)
	q := make([]float32, 2)
	maxErr := 0.0
	for range 200 {
		x32 := make([]float32, 4)
		h := make([]float64, 4)
		for i := range x32 {
			x32[i] = float32(rng.NormFloat64())
			h[i] = float64(x32[i])
		}
		for layer := 0; layer < 3; layer++ {
			w := torchFindPath(tf, []string{"0", fmt.Sprint(layer)})
			in, out := w.Shape[0], w.Shape[1]
			next := make([]float64, out)
			for o := range out {
				for i := range in {
					next[o] += h[i] * w.Values[i*out+o]
				}
				if b := torchFindPath(tf, []string{"1", fmt.Sprint(layer)}); b != nil {
					next[o] += b.Values[o]
				}
				if layer < 2 {
					next[o] = max(next[o], 0)
				}
			}
			h = next
		}
		imp.Network.Forward(q, x32, ws)
		for k := range q {
			maxErr = max(maxErr, math.Abs(float64(q[k])-h[k]))
		}
	}
	if maxErr > 1e-5 {
		t.Errorf("max |Q - Q_ref| = %g, want <= 1e-5", maxErr)
	}
}

// TestTorchPolicies imports each DQN policy of fixtures/policies and checks
// its Q-values on the recorded states against torch's, then its greedy
// returns from the recorded initial states, episode by episode.
func TestTorchPolicies(t *testing.T) {
	for _, path := range torchFixtureFiles(t, "policies") {
		base := strings.TrimSuffix(filepath.Base(path), ".pt")
		t.Run(base, func(t *testing.T) {
			tf, err := LoadTorch(path)
			if err != nil {
				t.Fatal(err)
			}
			imp, err := TorchToNetwork(tf, ImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			net := imp.Network
			f, err := npz.Open(strings.TrimSuffix(path, ".pt") + "_expected.npz")
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var states, wantQ []float32
			var initFlat, returns []float64
			for name, ptr := range map[string]any{"states": &states, "q": &wantQ, "init_states": &initFlat, "returns": &returns} {
				if err := f.Read(name+".npy", ptr); err != nil {
					t.Fatal(err)
				}
			}
			batch := len(states) / net.InputSize()
			if batch == 0 || len(wantQ) != batch*net.OutputSize() {
				t.Fatalf("%d states and %d q-values for a %s network", len(states), len(wantQ), net)
			}
			q := make([]float32, len(wantQ))
			net.ForwardBatch(q, states, batch, net.NewWorkspace(batch))
			exact := float64Forward(tf, states, batch)
			// The acceptance bound is 1e-5 absolute. torch's own float32 q
			// is ~2e-5 from the exact value here, so this holds only when
			// model's forward sums in torch's order; the log says how far
			// torch itself is from exact float64.
			const tol = 1e-5
			maxErr, torchErr, over := 0.0, 0.0, 0
			for i := range q {
				d := math.Abs(float64(q[i] - wantQ[i]))
				maxErr = max(maxErr, d)
				torchErr = max(torchErr, math.Abs(float64(wantQ[i])-exact[i]))
				if d > 1e-5 {
					over++
				}
				if d > tol {
					t.Errorf("state %d, action %d: Q %v, torch %v (|error| %.3g > %.3g)", i/2, i%2, q[i], wantQ[i], d, tol)
				}
			}
			t.Logf("%s: %s, Q max |error| vs torch over %d states = %.3g (tolerance %.3g; %d of %d values above 1e-5); torch vs exact float64: %.3g",
				base, net, batch, maxErr, tol, over, len(q), torchErr)

			inits := make([][]float64, len(initFlat)/4)
			for i := range inits {
				inits[i] = initFlat[4*i : 4*i+4]
			}
			cp, err := env.NewCartPole("v1")
			if err != nil {
				t.Fatal(err)
			}
			res, err := env.Run(cp, model.NewQPolicy(net), env.RunOptions{InitStates: inits})
			if err != nil {
				t.Fatal(err)
			}
			same, flips := 0, 0
			for ep, got := range res.Returns {
				if got == returns[ep] {
					same++
					continue
				}
				// A differing return is tolerated only if the episode met a
				// near-tie (|Q0 - Q1| below float32 noise), and reported.
				margin := minEpisodeMargin(t, net, inits[ep])
				if margin < 1e-4 {
					flips++
					t.Logf("episode %d: return %v, torch %v: near-tie flip (min |Q0-Q1| = %.2g)", ep, got, returns[ep], margin)
				} else {
					t.Errorf("episode %d: return %v, want %v (min |Q0-Q1| = %.2g, no near tie)", ep, got, returns[ep], margin)
				}
			}
			t.Logf("%s: returns equal in %d of %d episodes (%d near-tie flips)", base, same, len(res.Returns), flips)
		})
	}
}

// minEpisodeMargin replays one greedy episode and returns the smallest
// |Q0 - Q1| met along it.
func minEpisodeMargin(t *testing.T, net *model.Network, init []float64) float64 {
	cp, err := env.NewCartPole("v1")
	if err != nil {
		t.Fatal(err)
	}
	res, err := env.Run(cp, model.NewQPolicy(net), env.RunOptions{InitStates: [][]float64{init}, RecordStates: true})
	if err != nil {
		t.Fatal(err)
	}
	ws, q, margin := net.NewWorkspace(1), make([]float32, 2), math.Inf(1)
	for _, s := range res.States {
		net.Forward(q, s, ws)
		margin = min(margin, math.Abs(float64(q[0]-q[1])))
	}
	return margin
}

// float64Forward evaluates the file's Sequential 0/2/4 network in float64
// straight from the tensors, as an exact reference.
func float64Forward(tf *TorchFile, states []float32, batch int) []float64 {
	var out []float64
	for n := range batch {
		h := make([]float64, 4)
		for i := range h {
			h[i] = float64(states[4*n+i])
		}
		for layer, name := range []string{"0", "2", "4"} {
			w, b := tf.Tensor(name+".weight"), tf.Tensor(name+".bias")
			o, in := w.Shape[0], w.Shape[1]
			next := make([]float64, o)
			for r := range o {
				next[r] = b.Values[r]
				for c := range in {
					next[r] += w.Values[r*in+c] * h[c]
				}
				if layer < 2 {
					next[r] = max(next[r], 0)
				}
			}
			h = next
		}
		out = append(out, h...)
	}
	return out
}
