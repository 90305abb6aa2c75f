package train

import (
	"fmt"
	"math"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/spikebridge/spikebridge/emulator"
	"github.com/spikebridge/spikebridge/model"
	"github.com/spikebridge/spikebridge/probe"
)

// A spiking forward model is an MLP's weights run as a feed-forward
// network of integrate-and-fire neurons for T steps per prediction, the
// network convert.ConvertRegression builds from it with unit scales, which
// emulator.NewSpikingForwardRegressor runs on snn/:
//
//	analog input: layer 1's current is the constant W1 x + b1
//	hidden layer l, step t: v += W_l s_{l−1,t} + b_l (v(0) = 1/2), s = [v >= 1], v −= s
//	readout: y = W_out (Σ_t s_{L,t}) / T + b_out (a membrane integrator over T steps)
//
// TrainSpikingForward trains it directly: the T steps are unrolled in
// Gorgonia and the spikes differentiated through the fast-sigmoid surrogate
// (surrogate-gradient backpropagation through time), with the NaN-masked
// MSE on the standardised one-step change of a probe.ForwardTask. Its
// validation loss is the snn/ network's (emulator's predictor). It is
// rolled over a window like the rate forward model.

// spikingForwardInitialMembrane is v(0) of every hidden neuron, a fraction
// of the threshold 1 (convert's default).
const spikingForwardInitialMembrane = 0.5

// spikingForwardGraph is the Gorgonia graph of the NaN-masked MSE of one
// batch of a spiking forward model unrolled over T steps, in the transposed
// layout of emulatorGraph, with the weights shared with qParams.
type spikingForwardGraph struct {
	emulatorGraph
}

func newSpikingForwardGraph(params *qParams, batch, T int, slope float32) (*spikingForwardGraph, error) {
	sizes := params.sizes
	in, out := sizes[0], sizes[len(sizes)-1]
	sg := &spikingForwardGraph{emulatorGraph{batch: batch, in: in, out: out, params: params}}
	eg := &sg.emulatorGraph
	g := G.NewGraph()
	xT, yT, mT, scale := eg.batchNodes(g, "sff_")
	v0 := G.NewConstant(float32(spikingForwardInitialMembrane), G.WithName("sff_v0"))
	invT := G.NewConstant(1/float32(T), G.WithName("sff_inv_T"))
	spike := spikeOp{threshold: 1, slope: slope}
	nLayers := len(sizes) - 1
	var learnables G.Nodes
	ws, bs := make(G.Nodes, nLayers), make(G.Nodes, nLayers)
	for l := 0; l < nLayers; l++ {
		o, i := sizes[l+1], sizes[l]
		wv := tensor.New(tensor.WithShape(o, i), tensor.WithBacking(params.weights[l]))
		bv := tensor.New(tensor.WithShape(o, 1), tensor.WithBacking(params.biases[l]))
		ws[l] = G.NewMatrix(g, tensor.Float32, G.WithShape(o, i), G.WithName(fmt.Sprintf("sff_W%d", l+1)), G.WithValue(wv))
		bs[l] = G.NewMatrix(g, tensor.Float32, G.WithShape(o, 1), G.WithName(fmt.Sprintf("sff_b%d", l+1)), G.WithValue(bv))
		learnables = append(learnables, ws[l], bs[l])
	}
	drive, err := G.Mul(ws[0], xT)
	if err == nil {
		drive, err = G.BroadcastAdd(drive, bs[0], nil, []byte{1})
	}
	if err != nil {
		return nil, spikingForwardError(0, 0, "input current", err)
	}
	acc, err := unrollIFLayers(drive, ws, bs, T, v0, spike)
	if err != nil {
		return nil, err
	}
	rate, err := G.Mul(acc, invT)
	if err != nil {
		return nil, spikingForwardError(T, nLayers-1, "rate", err)
	}
	h, err := G.Mul(ws[nLayers-1], rate)
	if err == nil {
		h, err = G.BroadcastAdd(h, bs[nLayers-1], nil, []byte{1})
	}
	if err != nil {
		return nil, spikingForwardError(T, nLayers-1, "readout", err)
	}
	loss, err := maskedSquaredError(h, yT, mT, scale)
	if err != nil {
		return nil, err
	}
	if err := eg.compile(g, loss, learnables...); err != nil {
		return nil, fmt.Errorf("train: spiking forward graph gradients: %w", err)
	}
	return sg, nil
}

func spikingForwardError(t, l int, what string, err error) error {
	return fmt.Errorf("train: spiking forward graph step %d, layer %d: %s: %w", t, l+1, what, err)
}

// unrollIFLayers adds T steps of the hidden integrate-and-fire layers
// (layer 1 driven by the constant current drive, layer l > 1 by the spikes
// of layer l-1 through ws[l], bs[l]; v(0) = v0, subtractive reset) and
// returns the last hidden layer's spike count over the T steps.
func unrollIFLayers(drive *G.Node, ws, bs G.Nodes, T int, v0 *G.Node, spike spikeOp) (*G.Node, error) {
	nLayers := len(ws)
	v := make(G.Nodes, nLayers-1)
	var acc *G.Node
	var err error
	for t := 0; t < T; t++ {
		var prev *G.Node
		for l := 0; l < nLayers-1; l++ {
			cur := drive
			if l > 0 {
				if cur, err = G.Mul(ws[l], prev); err == nil {
					cur, err = G.BroadcastAdd(cur, bs[l], nil, []byte{1})
				}
				if err != nil {
					return nil, spikingForwardError(t, l, "current", err)
				}
			}
			if t == 0 {
				v[l], err = G.Add(cur, v0)
			} else {
				v[l], err = G.Add(v[l], cur)
			}
			if err != nil {
				return nil, spikingForwardError(t, l, "membrane", err)
			}
			s, err := G.ApplyOp(spike, v[l])
			if err != nil {
				return nil, spikingForwardError(t, l, "spike", err)
			}
			if v[l], err = G.Sub(v[l], s); err != nil {
				return nil, spikingForwardError(t, l, "reset", err)
			}
			prev = s
		}
		if t == 0 {
			acc = prev
		} else if acc, err = G.Add(acc, prev); err != nil {
			return nil, spikingForwardError(t, nLayers-1, "readout", err)
		}
	}
	return acc, nil
}

// TrainSpikingForward trains a spiking forward model (see
// emulator.NewSpikingForwardRegressor) of cfg.Hidden integrate-and-fire
// layers at T steps per prediction by surrogate-gradient BPTT, with the
// rate emulator's loop: NaN-masked MSE, Adam, keep-best on the validation
// loss (the network's on snn/, converted again after every epoch), early
// stopping, frozen layers ("fc1", …), checkpoints. init, when given, is the starting network (e.g. a clip-floor
// rate emulator; not modified).
func TrainSpikingForward(trainSet, val *probe.Samples, init *model.Network, T int, cfg EmulatorConfig, run EmulatorRun) (*model.Network, EmulatorResult, error) {
	var res EmulatorResult
	if err := checkEmulatorConfig(cfg, "spiking forward model"); err != nil {
		return nil, res, err
	}
	if T <= 0 {
		return nil, res, fmt.Errorf("train: spiking forward model: %d timesteps, want > 0", T)
	}
	if cfg.Leak != 0 || cfg.TraceDecay != 0 || cfg.Feedback || cfg.ClipFloor != 0 {
		return nil, res, fmt.Errorf("train: spiking forward model: leak %v, trace decay %v, feedback %v, clip-floor %d: its integrate-and-fire layers have none of these", cfg.Leak, cfg.TraceDecay, cfg.Feedback, cfg.ClipFloor)
	}
	if err := checkSampleSets("spiking forward model", trainSet, val); err != nil {
		return nil, res, err
	}
	slope := float32(cfg.SurrogateSlope)
	if slope == 0 {
		slope = defaultSurrogate
	}
	pcg := rand.NewPCG(cfg.Seed, 0x5f0a7d)
	m, err := newMLPEmulator(trainSet, init, cfg, pcg)
	if err != nil {
		return nil, res, err
	}
	sg, err := newSpikingForwardGraph(m.params, cfg.Batch, T, slope)
	if err != nil {
		return nil, res, err
	}
	net := m.params.network() // shares the parameters' weights
	valLoss := func() float64 { return spikingForwardLoss(net, T, val) }
	best, res, err := m.fit(trainSet, val, cfg, pcg, "spiking-forward", sg.run, valLoss, run)
	if err != nil {
		return nil, res, fmt.Errorf("train: spiking forward model: %w", err)
	}
	return best, res, nil
}

// spikingForwardLoss is the masked MSE on s of net run as a spiking
// forward model on snn/ at T steps; NaN when net cannot be converted (a
// weight that is not finite).
func spikingForwardLoss(net *model.Network, T int, s *probe.Samples) float64 {
	r, err := emulator.NewSpikingForwardRegressor(net, T)
	if err != nil {
		return math.NaN()
	}
	return probe.MaskedMSE(s, func(dst, x []float32) { _ = r.Predict(dst, x) })
}
