package learn_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spikebridge/spikebridge/env"
	"github.com/spikebridge/spikebridge/learn"
	"github.com/spikebridge/spikebridge/snn"
)

// smallProblem is a random network of 6 LIF + 6 ALIF neurons with 5 inputs
// and 3 readouts and a batch of random spike trains, with a class and a
// regression target per sequence.
func smallProblem(seed uint64, loss learn.Loss) (*snn.Recurrent, []float64, *learn.Batch, learn.EpropConfig) {
	rng := rand.New(rand.NewPCG(seed, 99))
	shape := learn.NESTEvidenceNetwork()
	shape.LIF, shape.ALIF, shape.TauAdaptationMS = 6, 6, 50
	net, fb, err := shape.New(rng, 5, 3)
	if err != nil {
		panic(err)
	}
	for i := range net.InputWeights {
		net.InputWeights[i] *= 3 // enough drive for spikes
	}
	cfg := learn.NESTEpropConfig()
	cfg.Loss = loss
	cfg.LossWindow = 40
	if loss == learn.LossMSE {
		net.Output = snn.OutputIdentity
	}
	const steps = 120
	b := &learn.Batch{Steps: steps}
	for s := 0; s < 4; s++ {
		x := make([]float64, steps*5)
		for i := range x {
			if rng.Float64() < 0.15 {
				x[i] = 1
			}
		}
		x[7] = 0.5 // one analog value exercises the x·w path
		target := make([]float64, steps*3)
		for i := range target {
			target[i] = math.Sin(float64(i) * 0.1)
		}
		b.Sequences = append(b.Sequences, learn.Sequence{Inputs: x, Class: s % 3, Target: target})
	}
	return net, fb, b, cfg
}

// recordTrial runs seq through net from a reset state and records, per
// step, the spikes Z, the surrogate derivatives PSI (0 while refractory)
// and the readout errors ERR (zero outside the loss window): what both
// forward-mode references start from.
func recordTrial(net *snn.Recurrent, st *snn.RecurrentState, cfg learn.EpropConfig, seq learn.Sequence, T int) (Z, PSI, ERR [][]float64) {
	N, In, K := net.Neurons, net.Inputs, net.Outputs
	Z, PSI, ERR = make([][]float64, T), make([][]float64, T), make([][]float64, T)
	probs := make([]float64, K)
	st.Reset()
	for t := 0; t < T; t++ {
		net.Step(st, seq.Inputs[t*In:(t+1)*In])
		Z[t] = slices.Clone(st.Z)
		PSI[t] = make([]float64, N)
		for j := range PSI[t] {
			if !st.Blocked[j] {
				PSI[t][j] = cfg.SurrogateScale * math.Max(0, 1-math.Abs((st.V[j]-st.ThresholdNow[j])/net.Threshold)) / net.Threshold
			}
		}
		ERR[t] = make([]float64, K)
		if t >= T-cfg.LossWindow {
			net.OutputInto(probs, st)
			for k := range ERR[t] {
				if cfg.Loss == learn.LossCrossEntropy {
					ERR[t][k] = probs[k]
					if k == seq.Class {
						ERR[t][k]--
					}
				} else {
					ERR[t][k] = st.Y[k] - seq.Target[t*K+k]
				}
			}
		}
	}
	return Z, PSI, ERR
}

// forwardModeGradients is eprop_nest_ref.py's trace loop translated
// literally: eligibility traces per synapse and step, filtered forward in
// time. It checks the backward closed form of learn on other networks, the
// MSE loss and analog inputs, which the NEST fixture does not cover.
func forwardModeGradients(net *snn.Recurrent, fb []float64, cfg learn.EpropConfig, b *learn.Batch) (gIn, gRec, gOut []float64) {
	N, In, K, T := net.Neurons, net.Inputs, net.Outputs, b.Steps
	gIn, gRec, gOut = make([]float64, N*In), make([]float64, N*N), make([]float64, K*N)
	st, err := snn.NewRecurrentState(net)
	if err != nil {
		panic(err)
	}
	lw := float64(cfg.LossWindow)
	for _, seq := range b.Sequences {
		Z, PSI, ERR := recordTrial(net, st, cfg, seq, T)
		reg := make([]float64, N)
		for j := range reg {
			count := 0.0
			for t := range Z {
				count += Z[t][j]
			}
			reg[j] = cfg.RegStrength * (count/float64(T) - cfg.TargetRate) / float64(T)
		}
		for _, group := range []struct {
			pre  func(t, i int) float64
			nPre int
			g    []float64
		}{
			{func(t, i int) float64 { return seq.Inputs[t*In+i] }, In, gIn},
			{func(t, i int) float64 {
				if t == 0 {
					return 0
				}
				return Z[t-1][i]
			}, N, gRec},
		} {
			zb := make([]float64, group.nPre)
			eps := make([]float64, N*group.nPre)
			eb := make([]float64, N*group.nPre)
			for t := 0; t < T; t++ {
				for i := range zb {
					zb[i] = net.Leak*zb[i] + group.pre(t, i)
				}
				for j := 0; j < N; j++ {
					L := 0.0
					for k := 0; k < K; k++ {
						L += fb[j*K+k] * ERR[t][k]
					}
					beta, psi := net.Adaptation[j], PSI[t][j]
					for i := 0; i < group.nPre; i++ {
						p := j*group.nPre + i
						e := psi * (zb[i] - beta*eps[p])
						eps[p] = psi*zb[i] + (net.AdaptationDecay-psi*beta)*eps[p]
						eb[p] = net.ReadoutLeak*eb[p] + (1-net.ReadoutLeak)*e
						group.g[p] += (L*eb[p]/lw + reg[j]*e) / float64(len(b.Sequences))
					}
				}
			}
		}
		zhat := make([]float64, N)
		for t := 0; t < T; t++ {
			for j := range zhat {
				zhat[j] = net.ReadoutLeak*zhat[j] + (1-net.ReadoutLeak)*Z[t][j]
			}
			for k := 0; k < K; k++ {
				for j := 0; j < N; j++ {
					gOut[k*N+j] += ERR[t][k] * zhat[j] / lw / float64(len(b.Sequences))
				}
			}
		}
	}
	return gIn, gRec, gOut
}

func TestEpropMatchesForwardModeTraces(t *testing.T) {
	for _, loss := range []learn.Loss{learn.LossCrossEntropy, learn.LossMSE} {
		t.Run(string(loss), func(t *testing.T) {
			net, fb, b, cfg := smallProblem(3, loss)
			e, err := learn.NewEprop(net, fb, cfg)
			if err != nil {
				t.Fatal(err)
			}
			r, err := e.Gradients(b)
			if err != nil {
				t.Fatal(err)
			}
			if r.Spikes == 0 {
				t.Fatal("no spikes: the comparison would be empty")
			}
			wantIn, wantRec, wantOut := forwardModeGradients(net, fb, cfg, b)
			for _, g := range []struct {
				name      string
				got, want []float64
			}{{"input", e.GradInput, wantIn}, {"recurrent", e.GradRecurrent, wantRec}, {"output", e.GradOutput, wantOut}} {
				scale := 0.0
				for _, v := range g.want {
					scale = math.Max(scale, math.Abs(v))
				}
				if scale == 0 {
					t.Fatalf("%s gradient is all zero", g.name)
				}
				if d, at := maxDiff(g.got, g.want); d > 1e-12*scale {
					t.Errorf("%s gradient: max |diff| %.3g at %d (got %.15g, forward-mode %.15g, scale %.3g)", g.name, d, at, g.got[at], g.want[at], scale)
				}
			}
		})
	}
}

// TestEpropReadoutGradientIsExact: spikes do not depend on the readout
// weights, so e-prop's readout gradient is the loss's true gradient; compare
// it with central differences of Result.Loss.
func TestEpropReadoutGradientIsExact(t *testing.T) {
	for _, loss := range []learn.Loss{learn.LossCrossEntropy, learn.LossMSE} {
		t.Run(string(loss), func(t *testing.T) {
			net, fb, b, cfg := smallProblem(4, loss)
			e, err := learn.NewEprop(net, fb, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.Gradients(b); err != nil {
				t.Fatal(err)
			}
			grad := slices.Clone(e.GradOutput)
			const h = 1e-6
			for _, i := range []int{0, 5, 13, 24, 35} {
				orig := net.OutputWeights[i]
				net.OutputWeights[i] = orig + h
				up, _ := e.Evaluate(b)
				net.OutputWeights[i] = orig - h
				down, _ := e.Evaluate(b)
				net.OutputWeights[i] = orig
				fd := (up.Loss - down.Loss) / (2 * h)
				if math.Abs(fd-grad[i]) > 1e-7*math.Max(1, math.Abs(fd)) {
					t.Errorf("readout weight %d: e-prop gradient %.10g, finite difference %.10g", i, grad[i], fd)
				}
			}
		})
	}
}

// TestEpropDeterministic: the same seed gives bit-identical weights whatever
// the number of workers.
func TestEpropDeterministic(t *testing.T) {
	train := func(workers int) []float64 {
		rng := rand.New(rand.NewPCG(8, 1))
		task := env.NESTEvidenceAccumulation()
		task.BackgroundSteps, task.Cues = 100, 3
		net, fb, err := learn.NESTEvidenceNetwork().New(rng, task.Inputs, 2)
		if err != nil {
			t.Fatal(err)
		}
		cfg := learn.NESTEpropConfig()
		cfg.Workers = workers
		e, err := learn.NewEprop(net, fb, cfg)
		if err != nil {
			t.Fatal(err)
		}
		gen, err := learn.NewEvidenceBatches(task, rng)
		if err != nil {
			t.Fatal(err)
		}
		for it := 0; it < 3; it++ {
			if _, err := e.Iterate(gen.Next(5)); err != nil {
				t.Fatal(err)
			}
		}
		return slices.Concat(net.InputWeights, net.RecurrentWeights, net.OutputWeights)
	}
	a, b, c := train(1), train(3), train(1)
	if !slices.Equal(a, b) || !slices.Equal(a, c) {
		t.Fatal("weights differ between runs with 1 and 3 workers or between two equal runs")
	}
}

func TestEpropBadInput(t *testing.T) {
	net, fb, b, cfg := smallProblem(5, learn.LossCrossEntropy)
	e, err := learn.NewEprop(net, fb, cfg)
	if err != nil {
		t.Fatal(err)
	}
	seq := b.Sequences[0]
	for _, c := range []struct {
		name  string
		batch learn.Batch
		want  string
	}{
		{"empty", learn.Batch{Steps: b.Steps}, "no sequences"},
		{"short", learn.Batch{Steps: 10, Sequences: []learn.Sequence{seq}}, "fewer than the 40-step loss window"},
		{"shape", learn.Batch{Steps: b.Steps, Sequences: []learn.Sequence{{Inputs: seq.Inputs[:7], Class: 1}}}, "sequence 0: 7 input values, want steps×inputs = 120×5"},
		{"NaN", learn.Batch{Steps: b.Steps, Sequences: []learn.Sequence{seq, {Inputs: withNaN(seq.Inputs, 12), Class: 1}}}, "sequence 1: input (step 2, input 2) is NaN"},
		{"class", learn.Batch{Steps: b.Steps, Sequences: []learn.Sequence{{Inputs: seq.Inputs, Class: 3}}}, "target class 3, want 0 to 2"},
		{"negative class", learn.Batch{Steps: b.Steps, Sequences: []learn.Sequence{{Inputs: seq.Inputs, Class: -1}}}, "target class -1"},
	} {
		if _, err := e.Iterate(&c.batch); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
	mse, mfb, mb, mcfg := smallProblem(5, learn.LossMSE)
	em, err := learn.NewEprop(mse, mfb, mcfg)
	if err != nil {
		t.Fatal(err)
	}
	bad := learn.Batch{Steps: mb.Steps, Sequences: []learn.Sequence{{Inputs: mb.Sequences[0].Inputs, Target: withNaN(mb.Sequences[0].Target, 4)}}}
	if _, err := em.Iterate(&bad); err == nil || !strings.Contains(err.Error(), "target (step 1, output 1) is NaN") {
		t.Errorf("NaN target: error %v", err)
	}

	for _, c := range []struct {
		name string
		make func() error
		want string
	}{
		{"zero neurons", func() error {
			n, f, _, cfg := smallProblem(5, learn.LossCrossEntropy)
			n.Neurons = 0
			_, err := learn.NewEprop(n, f, cfg)
			return err
		}, "0 neurons"},
		{"feedback shape", func() error {
			n, f, _, cfg := smallProblem(5, learn.LossCrossEntropy)
			_, err := learn.NewEprop(n, f[:3], cfg)
			return err
		}, "feedback weights: 3 values, want neurons×outputs = 12×3"},
		{"feedback NaN", func() error {
			n, f, _, cfg := smallProblem(5, learn.LossCrossEntropy)
			_, err := learn.NewEprop(n, withNaN(f, 4), cfg)
			return err
		}, "feedback weights: element (1, 1) is NaN"},
		{"loss and output", func() error {
			n, f, _, cfg := smallProblem(5, learn.LossCrossEntropy)
			cfg.Loss = learn.LossMSE
			_, err := learn.NewEprop(n, f, cfg)
			return err
		}, "MSE loss needs identity readouts"},
		{"learning rate", func() error {
			n, f, _, cfg := smallProblem(5, learn.LossCrossEntropy)
			cfg.LearningRate = math.NaN()
			_, err := learn.NewEprop(n, f, cfg)
			return err
		}, "learning rate is NaN"},
		{"zero neurons at set-up", func() error {
			s := learn.NESTEvidenceNetwork()
			s.LIF, s.ALIF = 0, 0
			_, _, err := s.New(rand.New(rand.NewPCG(1, 1)), 4, 2)
			return err
		}, "0 LIF and 0 ALIF"},
	} {
		if err := c.make(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func withNaN(v []float64, i int) []float64 {
	out := slices.Clone(v)
	out[i] = math.NaN()
	return out
}

// BenchmarkEpropIteration: one e-prop iteration (forward, gradient, Adam) of
// NEST's network on NEST-sized evidence-accumulation trials.
func BenchmarkEpropIteration(b *testing.B) {
	for _, size := range []int{1, 32} {
		b.Run("batch="+strconv.Itoa(size), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 0))
			task := env.NESTEvidenceAccumulation()
			net, fb, _ := learn.NESTEvidenceNetwork().New(rng, task.Inputs, 2)
			e, _ := learn.NewEprop(net, fb, learn.NESTEpropConfig())
			gen, _ := learn.NewEvidenceBatches(task, rng)
			batch := gen.Next(size)
			b.ResetTimer()
			for b.Loop() {
				if _, err := e.Iterate(batch); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// rtrlGradients computes the surrogate gradient of the loss (plus the rate
// regulariser) by forward-mode real-time recurrent learning: for every
// weight, the sensitivities of v, a, z and y are carried forward in time.
// It is an algorithm independent of BPTT's backward sweep that must give
// the same numbers.
func rtrlGradients(net *snn.Recurrent, cfg learn.EpropConfig, b *learn.Batch) (gIn, gRec, gOut []float64) {
	N, In, K, T := net.Neurons, net.Inputs, net.Outputs, b.Steps
	gIn, gRec, gOut = make([]float64, N*In), make([]float64, N*N), make([]float64, K*N)
	st, err := snn.NewRecurrentState(net)
	if err != nil {
		panic(err)
	}
	lw := float64(cfg.LossWindow)
	nb := float64(len(b.Sequences))
	for _, seq := range b.Sequences {
		Z, PSI, ERR := recordTrial(net, st, cfg, seq, T)
		reg := make([]float64, N)
		for j := range reg {
			count := 0.0
			for t := range Z {
				count += Z[t][j]
			}
			reg[j] = cfg.RegStrength * (count/float64(T) - cfg.TargetRate) / float64(T)
		}
		// kind 0: input weight (j, i); 1: recurrent (j, i); 2: readout (k, j).
		sensitivity := func(kind, row, col int) float64 {
			dv, da, dz, dy := make([]float64, N), make([]float64, N), make([]float64, N), make([]float64, K)
			ndv, nda, ndz := make([]float64, N), make([]float64, N), make([]float64, N)
			total := 0.0
			for t := 0; t < T; t++ {
				for j := 0; j < N; j++ {
					v := net.Leak * dv[j]
					for i := 0; i < N; i++ {
						v += net.RecurrentWeights[j*N+i] * dz[i]
					}
					v -= net.Threshold * dz[j]
					if j == row {
						if kind == 0 {
							v += seq.Inputs[t*In+col]
						} else if kind == 1 && t > 0 {
							v += Z[t-1][col]
						}
					}
					ndv[j] = v
					nda[j] = net.AdaptationDecay*da[j] + dz[j]
					ndz[j] = PSI[t][j] * (ndv[j] - net.Adaptation[j]*nda[j])
				}
				copy(dv, ndv)
				copy(da, nda)
				copy(dz, ndz)
				for k := 0; k < K; k++ {
					s := 0.0
					for j := 0; j < N; j++ {
						s += net.OutputWeights[k*N+j] * dz[j]
					}
					if kind == 2 && k == row {
						s += Z[t][col]
					}
					dy[k] = net.ReadoutLeak*dy[k] + (1-net.ReadoutLeak)*s
					total += ERR[t][k] / lw * dy[k]
				}
				for j := 0; j < N; j++ {
					total += reg[j] * dz[j]
				}
			}
			return total / nb
		}
		for j := 0; j < N; j++ {
			for i := 0; i < In; i++ {
				gIn[j*In+i] += sensitivity(0, j, i)
			}
			for i := 0; i < N; i++ {
				gRec[j*N+i] += sensitivity(1, j, i)
			}
		}
		for k := 0; k < K; k++ {
			for j := 0; j < N; j++ {
				gOut[k*N+j] += sensitivity(2, k, j)
			}
		}
	}
	return gIn, gRec, gOut
}

func TestBPTTMatchesRTRL(t *testing.T) {
	for _, loss := range []learn.Loss{learn.LossCrossEntropy, learn.LossMSE} {
		t.Run(string(loss), func(t *testing.T) {
			net, fb, b, cfg := smallProblem(6, loss)
			cfg.Gradient = learn.GradientBPTT
			e, err := learn.NewEprop(net, fb, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.Gradients(b); err != nil {
				t.Fatal(err)
			}
			wantIn, wantRec, wantOut := rtrlGradients(net, cfg, b)
			epropIn, _, _ := forwardModeGradients(net, fb, cfg, b)
			for _, g := range []struct {
				name      string
				got, want []float64
			}{{"input", e.GradInput, wantIn}, {"recurrent", e.GradRecurrent, wantRec}, {"output", e.GradOutput, wantOut}} {
				scale := 0.0
				for _, v := range g.want {
					scale = math.Max(scale, math.Abs(v))
				}
				if scale == 0 {
					t.Fatalf("%s gradient is all zero", g.name)
				}
				if d, at := maxDiff(g.got, g.want); d > 1e-10*scale {
					t.Errorf("%s gradient: max |diff| %.3g at %d (BPTT %.15g, RTRL %.15g, scale %.3g)", g.name, d, at, g.got[at], g.want[at], scale)
				}
			}
			// BPTT is not e-prop: the two must differ where recurrence matters.
			if d, _ := maxDiff(e.GradInput, epropIn); d == 0 {
				t.Error("BPTT's input gradient equals e-prop's: the test network exercises no recurrence")
			}
		})
	}
}

// TestEpropIterationAllocatesNothing: after the first iteration has sized
// the buffers, a single-worker iteration allocates nothing.
func TestEpropIterationAllocatesNothing(t *testing.T) {
	net, fb, b, cfg := smallProblem(9, learn.LossCrossEntropy)
	cfg.Workers = 1
	e, err := learn.NewEprop(net, fb, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Iterate(b); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(5, func() {
		if _, err := e.Iterate(b); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("an e-prop iteration allocates %v times", n)
	}
}
