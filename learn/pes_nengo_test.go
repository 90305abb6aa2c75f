package learn

import (
	"archive/zip"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/internal/testfixtures"
	"github.com/spikebridge/spikebridge/nef"
)

// pesFixture is ../shared/fixtures/pes/channel_seed10.npz (or a file of the
// same layout): numeric members by name; others (Nengo's version string) are
// skipped.
type pesFixture map[string]*formats.Array

func loadPESFixture(t testing.TB) pesFixture {
	t.Helper()
	path := testfixtures.Dir(t, "pes", "channel_seed10.npz")
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Skipf("PES fixture: %v", err)
	}
	defer zr.Close()
	fx := pesFixture{}
	for _, f := range zr.File {
		name := strings.TrimSuffix(f.Name, ".npy")
		rc, err := f.Open()
		if err != nil {
			t.Fatalf("%s: %s: %v", path, name, err)
		}
		a, err := formats.DecodeNPY(rc, int64(f.UncompressedSize64), name)
		rc.Close()
		if err != nil {
			if strings.Contains(err.Error(), "not supported") {
				continue
			}
			t.Fatalf("%s: %v", path, err)
		}
		fx[name] = a
	}
	return fx
}

func (fx pesFixture) get(t testing.TB, name string, size ...int) []float64 {
	t.Helper()
	a, ok := fx[name]
	if !ok {
		t.Fatalf("PES fixture has no array %q", name)
	}
	n := 1
	for _, s := range size {
		n *= s
	}
	if len(size) > 0 && len(a.Data) != n {
		t.Fatalf("PES fixture array %q: %d values, want %d (shape %v)", name, len(a.Data), n, size)
	}
	return a.Data
}

func (fx pesFixture) scalar(t testing.TB, name string) float64 { return fx.get(t, name, 1)[0] }

// fixtureEnsemble builds an ensemble from the fixture's own encoders, gains
// and biases (Nengo's numbers, used as given).
func fixtureEnsemble(t testing.TB, fx pesFixture, prefix string, neuron nef.LIF) *nef.Ensemble {
	t.Helper()
	gain := fx.get(t, prefix+"_gain")
	n := len(gain)
	enc := fx.get(t, prefix+"_encoders")
	if len(enc)%n != 0 {
		t.Fatalf("%s_encoders: %d values for %d neurons", prefix, len(enc), n)
	}
	e := &nef.Ensemble{N: n, D: len(enc) / n, Encoders: enc, Gain: gain, Bias: fx.get(t, prefix+"_bias", n),
		MaxRates: fx.get(t, prefix+"_max_rates", n), Intercepts: fx.get(t, prefix+"_intercepts", n), Neuron: neuron}
	if err := e.Check(); err != nil {
		t.Fatal(err)
	}
	return e
}

// recoverInitialVoltages finds, for every neuron, a starting voltage under
// which our LIF reproduces the fixture's spikes over the first fitSteps steps
// of the recorded currents J (steps, n). Nengo draws LIF voltages uniformly
// at random from seeds the fixture does not store; a neuron's voltage only
// matters until it is forgotten (a spike's sub-step time carries it on, the
// floor at 0 erases it), so the fitted steps pin it to a narrow interval and
// we take its midpoint. The remaining steps are then a prediction.
func recoverInitialVoltages(t testing.TB, neuron nef.LIF, dt float64, J, spikes []float64, n, fitSteps int) []float64 {
	t.Helper()
	mismatch := func(i int, v0 float64) bool {
		st := &nef.LIFState{Voltage: []float64{v0}, Refractory: []float64{0}}
		out := []float64{0}
		for k := 0; k < fitSteps; k++ {
			neuron.Step(dt, J[k*n+i:k*n+i+1], out, st)
			if (out[0] != 0) != (spikes[k*n+i] != 0) {
				return true
			}
		}
		return false
	}
	const grid = 1024
	v0 := make([]float64, n)
	for i := 0; i < n; i++ {
		// the longest run of feasible grid points
		bestLo, bestLen, runLo, runLen := -1, 0, 0, 0
		for g := 0; g <= grid; g++ {
			if !mismatch(i, float64(g)/grid) {
				if runLen == 0 {
					runLo = g
				}
				runLen++
				if runLen > bestLen {
					bestLo, bestLen = runLo, runLen
				}
			} else {
				runLen = 0
			}
		}
		if bestLo < 0 {
			// narrower than the grid: search between grid points
			for g := 0; g < grid && bestLo < 0; g++ {
				for s := 1; s < 64; s++ {
					v := (float64(g) + float64(s)/64) / grid
					if !mismatch(i, v) {
						bestLo, bestLen = -2, 0
						v0[i] = v
						break
					}
				}
			}
			if bestLo == -1 {
				t.Fatalf("neuron %d: no initial voltage in [0, 1] reproduces its first %d steps", i, fitSteps)
			}
			continue
		}
		lo, hi := float64(bestLo)/grid, float64(bestLo+bestLen-1)/grid
		// refine both ends by bisection against the infeasible neighbours
		if bestLo > 0 {
			a, b := float64(bestLo-1)/grid, lo
			for it := 0; it < 50; it++ {
				m := (a + b) / 2
				if mismatch(i, m) {
					a = m
				} else {
					b = m
				}
			}
			lo = b
		}
		if bestLo+bestLen-1 < grid {
			a, b := hi, float64(bestLo+bestLen)/grid
			for it := 0; it < 50; it++ {
				m := (a + b) / 2
				if mismatch(i, m) {
					b = m
				} else {
					a = m
				}
			}
			hi = a
		}
		v0[i] = (lo + hi) / 2
	}
	return v0
}

// relDiff is max|a−b| over max|b| (or the absolute difference where b is 0).
func relDiff(a, b []float64) float64 {
	scale, d := 0.0, 0.0
	for i := range b {
		scale = math.Max(scale, math.Abs(b[i]))
		d = math.Max(d, math.Abs(a[i]-b[i]))
	}
	if scale == 0 {
		return d
	}
	return d / scale
}

type nengoChannel struct {
	c          *Channel
	fx         pesFixture
	steps      int
	traceSteps int
}

func buildNengoChannel(t testing.TB) nengoChannel {
	fx := loadPESFixture(t)
	return buildNengoChannelFrom(t, fx)
}

func buildNengoChannelFrom(t testing.TB, fx pesFixture) nengoChannel {
	dt := fx.scalar(t, "dt")
	neuron := nef.LIF{TauRC: fx.scalar(t, "lif_tau_rc"), TauRef: fx.scalar(t, "lif_tau_ref"), Amplitude: 1}
	pre := fixtureEnsemble(t, fx, "pre", neuron)
	post := fixtureEnsemble(t, fx, "post", neuron)
	steps := int(fx.scalar(t, "steps"))
	traceSteps := int(fx.scalar(t, "trace_steps"))
	d := pre.D
	cfg := ChannelConfig{Dt: dt, Dimensions: d, PreNeurons: pre.N, PostNeurons: post.N,
		LearningRate: fx.scalar(t, "learning_rate"), PreTau: fx.scalar(t, "pre_tau"), SynapseTau: fx.scalar(t, "synapse_tau"), Reg: 0.1}
	c, err := NewChannelFrom(cfg, pre, post, fx.get(t, "decoders_pre_to_error", d*pre.N), fx.get(t, "decoders_post_to_error", d*post.N), make([]float64, d*pre.N))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := fx["pre_initial_voltage"]; ok {
		c.InitialPre = append([]float64(nil), v.Data...)
	} else {
		c.InitialPre = recoverInitialVoltages(t, neuron, dt, fx.get(t, "pre_input", traceSteps*pre.N), fx.get(t, "pre_spikes", traceSteps*pre.N), pre.N, traceSteps)
	}
	if v, ok := fx["post_initial_voltage"]; ok {
		c.InitialPost = append([]float64(nil), v.Data...)
	} else {
		c.InitialPost = recoverInitialVoltages(t, neuron, dt, fx.get(t, "post_input", traceSteps*post.N), fx.get(t, "post_spikes", traceSteps*post.N), post.N, traceSteps)
	}
	c.Reset()
	return nengoChannel{c: c, fx: fx, steps: steps, traceSteps: traceSteps}
}

var nengoOnce struct {
	sync.Once
	fx     pesFixture
	v0     [2][]float64
	recov  bool
	failed bool
}

// nengoChannelCached builds the fixture's network once per test binary (the
// voltage recovery is the slow part) and hands out a fresh copy each time.
func nengoChannelCached(t *testing.T) nengoChannel {
	t.Helper()
	nengoOnce.Do(func() {
		nengoOnce.failed = true
		nc := buildNengoChannel(t)
		nengoOnce.fx = nc.fx
		nengoOnce.v0 = [2][]float64{nc.c.InitialPre, nc.c.InitialPost}
		_, has := nc.fx["pre_initial_voltage"]
		nengoOnce.recov = !has
		nengoOnce.failed = false
	})
	if nengoOnce.failed {
		t.Fatal("building the fixture's network failed in an earlier test")
	}
	fx := nengoOnce.fx
	dt := fx.scalar(t, "dt")
	neuron := nef.LIF{TauRC: fx.scalar(t, "lif_tau_rc"), TauRef: fx.scalar(t, "lif_tau_ref"), Amplitude: 1}
	pre := fixtureEnsemble(t, fx, "pre", neuron)
	post := fixtureEnsemble(t, fx, "post", neuron)
	d := pre.D
	cfg := ChannelConfig{Dt: dt, Dimensions: d, PreNeurons: pre.N, PostNeurons: post.N,
		LearningRate: fx.scalar(t, "learning_rate"), PreTau: fx.scalar(t, "pre_tau"), SynapseTau: fx.scalar(t, "synapse_tau"), Reg: 0.1}
	c, err := NewChannelFrom(cfg, pre, post, fx.get(t, "decoders_pre_to_error", d*pre.N), fx.get(t, "decoders_post_to_error", d*post.N), make([]float64, d*pre.N))
	if err != nil {
		t.Fatal(err)
	}
	c.InitialPre, c.InitialPost = nengoOnce.v0[0], nengoOnce.v0[1]
	c.Reset()
	return nengoChannel{c: c, fx: fx, steps: int(fx.scalar(t, "steps")), traceSteps: int(fx.scalar(t, "trace_steps"))}
}

// Nengo's gain and bias follow from its max rates and intercepts.
func TestGainBiasMatchesNengo(t *testing.T) {
	fx := loadPESFixture(t)
	neuron := nef.LIF{TauRC: fx.scalar(t, "lif_tau_rc"), TauRef: fx.scalar(t, "lif_tau_ref"), Amplitude: 1}
	for _, pop := range []string{"pre", "post"} {
		gain, bias := fx.get(t, pop+"_gain"), fx.get(t, pop+"_bias")
		rates, intercepts := fx.get(t, pop+"_max_rates", len(gain)), fx.get(t, pop+"_intercepts", len(gain))
		for i := range gain {
			g, b, err := neuron.GainBias(rates[i], intercepts[i])
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(g-gain[i]) > 1e-12*math.Abs(gain[i]) || math.Abs(b-bias[i]) > 1e-12*math.Max(1, math.Abs(bias[i])) {
				t.Errorf("%s neuron %d: gain, bias %v, %v; Nengo %v, %v", pop, i, g, b, gain[i], bias[i])
			}
		}
	}
}

// Every recorded number of the traced steps: currents, both rasters, PES's
// filtered activities, the error node, the error PES received, the weights.
func TestPESMatchesNengoTrace(t *testing.T) {
	nc := nengoChannelCached(t)
	c, fx := nc.c, nc.fx
	d, nPre, nPost, T := c.Config.Dimensions, c.Pre.N, c.Post.N, nc.traceSteps
	input := fx.get(t, "input", nc.steps*d)
	preJ, postJ := fx.get(t, "pre_input", T*nPre), fx.get(t, "post_input", T*nPost)
	preS, postS := fx.get(t, "pre_spikes", T*nPre), fx.get(t, "post_spikes", T*nPost)
	filtered := fx.get(t, "pre_filtered", T*nPre)
	errs, errNode := fx.get(t, "error", T*d), fx.get(t, "error_node", T*d)
	weights := fx.get(t, "weights_trace", T*d*nPre)
	worst := map[string]float64{}
	note := func(name string, v float64) { worst[name] = math.Max(worst[name], v) }
	spikeMismatch := 0
	for k := 0; k < T; k++ {
		// the weights Nengo records for step k are those the step uses
		note("weights", relDiff(c.Weights, weights[k*d*nPre:(k+1)*d*nPre]))
		c.Step(input[k*d : (k+1)*d])
		note("pre_input", relDiff(c.PreJ, preJ[k*nPre:(k+1)*nPre]))
		note("post_input", relDiff(c.PostJ, postJ[k*nPost:(k+1)*nPost]))
		note("pre_filtered", relDiff(c.PreFiltered, filtered[k*nPre:(k+1)*nPre]))
		for o := 0; o < d; o++ {
			note("error", math.Abs(c.Error[o]-errs[k*d+o]))
			note("error_node", math.Abs(c.ErrorNode[o]-errNode[k*d+o]))
		}
		for i := range c.PreOut {
			if (c.PreOut[i] != 0) != (preS[k*nPre+i] != 0) {
				spikeMismatch++
			}
		}
		for i := range c.PostOut {
			if (c.PostOut[i] != 0) != (postS[k*nPost+i] != 0) {
				spikeMismatch++
			}
		}
	}
	t.Logf("%d steps: spike mismatches %d; worst differences %v", T, spikeMismatch, worst)
	if spikeMismatch != 0 {
		t.Errorf("%d of %d spikes differ from Nengo's rasters", spikeMismatch, T*(nPre+nPost))
	}
	limits := map[string]float64{"weights": 1e-9, "pre_input": 1e-12, "post_input": 1e-12, "pre_filtered": 1e-12, "error": 1e-12, "error_node": 1e-12}
	for name, limit := range limits {
		if !(worst[name] <= limit) {
			t.Errorf("%s: worst relative difference %v, want <= %v", name, worst[name], limit)
		}
	}
}

// The weights every 100 steps over the whole run and at its end. Without the
// initial voltages in the fixture, a neuron whose recovered voltage sits in
// the right interval but not at Nengo's exact value can move a spike after
// the traced second: the bound then allows a few spikes' worth of PES change
// (measured on channel_seed10: 4.4e-5 relative, and 83 % of the static
// outputs within 1e-6).
func TestPESMatchesNengoWeights(t *testing.T) {
	nc := nengoChannelCached(t)
	c, fx := nc.c, nc.fx
	d, nPre := c.Config.Dimensions, c.Pre.N
	input := fx.get(t, "input", nc.steps*d)
	every := fx.get(t, "weights_every_100")
	final := fx.get(t, "weights_final", d*nPre)
	samples := len(every) / (d * nPre)
	if samples == 0 || nc.steps%samples != 0 {
		t.Fatalf("weights_every_100: %d samples for %d steps", samples, nc.steps)
	}
	period := nc.steps / samples
	worstTrace, worstAll := 0.0, 0.0
	for k := 0; k < nc.steps; k++ {
		if k%period == period-1 {
			j := k / period
			r := relDiff(c.Weights, every[j*d*nPre:(j+1)*d*nPre])
			if k < nc.traceSteps {
				worstTrace = math.Max(worstTrace, r)
			}
			worstAll = math.Max(worstAll, r)
		}
		if k == nc.steps-1 {
			r := relDiff(c.Weights, final)
			t.Logf("final weights (those of the last step): relative difference %.3g", r)
			worstAll = math.Max(worstAll, r)
		}
		c.Step(input[k*d : (k+1)*d])
	}
	limit := 1e-6
	if nengoOnce.recov {
		limit = 1e-3
	}
	t.Logf("weights every %d steps: worst relative difference %.3g in the traced steps, %.3g over all %d steps (limit %g; initial voltages recovered: %v)",
		period, worstTrace, worstAll, nc.steps, limit, nengoOnce.recov)
	if !(worstTrace <= 1e-9) {
		t.Errorf("weights in the traced steps differ by %v relative, want <= 1e-9", worstTrace)
	}
	if !(worstAll <= limit) {
		t.Errorf("weights over the run differ by %v relative, want <= %v", worstAll, limit)
	}
}

// The reloaded network: Pre's neurons onto Post with Nengo's final weights,
// no learning, the same initial voltages; its decoded output and RMSE
// against the input after 0.5 s.
func TestPESStaticMatchesNengo(t *testing.T) {
	nc := nengoChannelCached(t)
	c, fx := nc.c, nc.fx
	d := c.Config.Dimensions
	input := fx.get(t, "input", nc.steps*d)
	want := fx.get(t, "static_post_decoded")
	steps := len(want) / d
	copy(c.Weights, fx.get(t, "weights_final", len(c.Weights)))
	c.Learning = false
	c.Reset()
	worst, close := 0.0, 0
	se, count := 0.0, 0
	start := int(math.Round(0.5 / c.Config.Dt))
	for k := 0; k < steps; k++ {
		for o := 0; o < d; o++ {
			got := c.Decoded()[o]
			diff := math.Abs(got - want[k*d+o])
			worst = math.Max(worst, diff)
			if diff <= 1e-6 {
				close++
			}
			if k >= start {
				e := got - input[k*d+o]
				se += e * e
				count++
			}
		}
		c.Step(input[k*d : (k+1)*d])
	}
	rmse := math.Sqrt(se / float64(count))
	nengoRMSE := fx.scalar(t, "static_rmse_vs_input")
	t.Logf("static output: %d of %d values within 1e-6 of Nengo's, worst %.3g; RMSE vs input after 0.5 s %.6f (Nengo %.6f)",
		close, steps*d, worst, rmse, nengoRMSE)
	minClose := steps * d
	if nengoOnce.recov {
		minClose = steps * d * 3 / 5
	}
	if close < minClose {
		t.Errorf("only %d of %d static outputs within 1e-6 of Nengo's, want >= %d", close, steps*d, minClose)
	}
	if math.Abs(rmse-nengoRMSE) > 1e-3 {
		t.Errorf("static RMSE %v, Nengo %v", rmse, nengoRMSE)
	}
}
