package train

import (
	"fmt"
	"math"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/spikebridge/spikebridge/emulator"
	"github.com/spikebridge/spikebridge/probe"
)

// tensors lists the parameters in the graph's gradient order.
func spikingTensors(e *emulator.Spiking) [][]float32 {
	return [][]float32{e.WIn, e.B, e.WRec, e.WOut, e.BOut}
}

// spikingLayerTensors maps the freezable layer names to tensor indices.
var spikingLayerNames = []string{"input", "recurrent", "readout"}

func spikingLayerTensors(name string) []int {
	switch name {
	case "input":
		return []int{0, 1}
	case "recurrent":
		return []int{2}
	}
	return []int{3, 4}
}

// SpikingDefaults are the neuron settings of TrainSpikingEmulator when the
// config leaves them zero: leak 0.9 and trace decay 0.8 per step, threshold
// 1, surrogate slope 5.
const (
	defaultSpikingLeak  = 0.9
	defaultTraceDecay   = 0.8
	defaultSurrogate    = 5
	spikingThreshold    = 1
	defaultSpikingWidth = 128
)

// DefaultSpikingEmulatorConfig: 128 LIF neurons, batch 32, Adam 2e-3.
func DefaultSpikingEmulatorConfig() EmulatorConfig {
	return EmulatorConfig{Hidden: []int{defaultSpikingWidth}, Epochs: 100, Batch: 32, LR: 2e-3, Seed: 1, Patience: 15}
}

// TrainSpikingEmulator trains a SpikingEmulator with cfg.Hidden[0] neurons
// on SequenceTask samples of the given window by surrogate-gradient
// backpropagation through time on Gorgonia, with the NaN-masked MSE, Adam,
// early stopping on the validation loss and layer freezing ("input",
// "recurrent", "readout"). init, when given, is the starting network.
func TrainSpikingEmulator(trainSet, val *probe.Samples, window int, init *emulator.Spiking, cfg EmulatorConfig, run EmulatorRun) (*emulator.Spiking, EmulatorResult, error) {
	var res EmulatorResult
	if err := checkEmulatorConfig(cfg, "spiking emulator"); err != nil {
		return nil, res, err
	}
	if len(cfg.Hidden) != 1 {
		return nil, res, fmt.Errorf("train: spiking emulator: hidden %v, want one recurrent layer width", cfg.Hidden)
	}
	if err := checkSampleSets("spiking emulator", trainSet, val); err != nil {
		return nil, res, err
	}
	if window <= 0 || trainSet.Out%window != 0 {
		return nil, res, fmt.Errorf("train: spiking emulator: %d outputs are not whole steps of a %d-step window", trainSet.Out, window)
	}
	outputs := trainSet.Out / window
	context := outputs
	if (trainSet.In-context)%window != 0 || trainSet.In <= context {
		return nil, res, fmt.Errorf("train: spiking emulator: %d features are not %d steps of inputs plus a context of %d (want sequence-task samples)", trainSet.In, window, context)
	}
	stepInputs := (trainSet.In - context) / window
	leak, decay, slope := cfg.Leak, cfg.TraceDecay, cfg.SurrogateSlope
	if leak == 0 {
		leak = defaultSpikingLeak
	}
	if decay == 0 {
		decay = defaultTraceDecay
	}
	if slope == 0 {
		slope = defaultSurrogate
	}
	pcg := rand.NewPCG(cfg.Seed, 0x5b1c1e)
	rng := rand.New(pcg)
	var e *emulator.Spiking
	if init != nil {
		if init.Window != window || init.StepInputs != stepInputs || init.Context != context || init.Outputs != outputs || init.Hidden != cfg.Hidden[0] || init.Feedback != cfg.Feedback {
			return nil, res, fmt.Errorf("train: spiking emulator: initial network (%d steps, %d+%d in, %d hidden, %d out, feedback %v) does not match the data and settings (%d, %d+%d, %d, %d, %v)",
				init.Window, init.StepInputs, init.Context, init.Hidden, init.Outputs, init.Feedback, window, stepInputs, context, cfg.Hidden[0], outputs, cfg.Feedback)
		}
		if err := init.Check(); err != nil {
			return nil, res, fmt.Errorf("train: %w", err)
		}
		e = init.Clone()
	} else {
		e = newSpikingEmulator(window, stepInputs, context, cfg.Hidden[0], outputs, float32(leak), float32(decay), cfg.Feedback, rng)
	}
	frozen, err := frozenSet(cfg.Freeze, spikingLayerNames)
	if err != nil {
		return nil, res, err
	}
	var trainIdx []int
	for _, n := range spikingLayerNames {
		if !frozen[n] {
			trainIdx = append(trainIdx, spikingLayerTensors(n)...)
		}
	}
	sg, err := newSpikingGraph(e, cfg.Batch, float32(slope))
	if err != nil {
		return nil, res, err
	}
	best := e.Clone()
	res, err = fitEmulator(trainSet, val, cfg, pcg, fitHooks{
		kind: "spiking", params: spikingTensors(e), best: spikingTensors(best), trainIdx: trainIdx, run: sg.run,
		valLoss: func() float64 { return e.MaskedMSE(val) },
	}, run)
	if err != nil {
		return nil, res, fmt.Errorf("train: spiking emulator: %w", err)
	}
	res.ValSamples = val.Rows
	return best, res, nil
}

// newSpikingEmulator initialises weights uniformly in ±1/sqrt(fan-in) (as
// torch.nn.Linear), the recurrent ones at half that, and zero biases.
func newSpikingEmulator(window, stepInputs, context, hidden, outputs int, leak, decay float32, feedback bool, rng *rand.Rand) *emulator.Spiking {
	e := &emulator.Spiking{Window: window, StepInputs: stepInputs, Context: context, Hidden: hidden, Outputs: outputs,
		Leak: leak, TraceDecay: decay, Threshold: spikingThreshold, Feedback: feedback}
	f := e.Features()
	e.WIn, e.WRec, e.B = make([]float32, hidden*f), make([]float32, hidden*hidden), make([]float32, hidden)
	e.WOut, e.BOut = make([]float32, outputs*hidden), make([]float32, outputs)
	fill := func(v []float32, bound float64) {
		for i := range v {
			v[i] = float32((2*rng.Float64() - 1) * bound)
		}
	}
	fill(e.WIn, 1/math.Sqrt(float64(f)))
	fill(e.WRec, 0.5/math.Sqrt(float64(hidden)))
	out := 1 / math.Sqrt(float64(hidden))
	if feedback {
		out *= 0.1 // an integrating readout: small steps at first
	}
	fill(e.WOut, out)
	return e
}

// spikingGraph is the unrolled BPTT graph of one batch, transposed layout
// (neurons along rows, samples along columns), weights backed by the
// emulator's slices. Every input node has its own name: Gorgonia merges
// nodes with equal hashes.
type spikingGraph struct {
	e        *emulator.Spiking
	batch    int
	xTV      []*tensor.Dense // per step (StepInputs+Context, batch)
	yTV, mTV *tensor.Dense   // (Window*Outputs, batch)
	scaleV   *tensor.Dense
	lossTape
}

func newSpikingGraph(e *emulator.Spiking, batch int, slope float32) (*spikingGraph, error) {
	sg := &spikingGraph{e: e, batch: batch}
	g := G.NewGraph()
	f := e.StepInputs + e.Context // the per-step input node (feedback is appended in the graph)
	mat := func(name string, rows, cols int, backing []float32) (*G.Node, *tensor.Dense) {
		if backing == nil {
			backing = make([]float32, rows*cols)
		}
		v := tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(backing))
		return G.NewMatrix(g, tensor.Float32, G.WithShape(rows, cols), G.WithName(name), G.WithValue(v)), v
	}
	n := &spikingNodes{e: e}
	n.wIn, _ = mat("spk_WIn", e.Hidden, e.Features(), e.WIn)
	n.b, _ = mat("spk_B", e.Hidden, 1, e.B)
	n.wRec, _ = mat("spk_WRec", e.Hidden, e.Hidden, e.WRec)
	n.wOut, _ = mat("spk_WOut", e.Outputs, e.Hidden, e.WOut)
	n.bOut, _ = mat("spk_BOut", e.Outputs, 1, e.BOut)
	yT, yV := mat("spk_yT", e.Window*e.Outputs, batch, nil)
	mT, mV := mat("spk_maskT", e.Window*e.Outputs, batch, nil)
	sg.yTV, sg.mTV = yV, mV
	sg.scaleV = tensor.New(tensor.WithShape(1), tensor.WithBacking([]float32{0}))
	scale := G.NewVector(g, tensor.Float32, G.WithShape(1), G.WithName("spk_inv_count"), G.WithValue(sg.scaleV))
	n.leak = G.NewConstant(e.Leak, G.WithName("spk_leak"))
	n.decay = G.NewConstant(e.TraceDecay, G.WithName("spk_decay"))
	n.gain = G.NewConstant(1-e.TraceDecay, G.WithName("spk_trace_gain"))
	n.theta = G.NewConstant(e.Threshold, G.WithName("spk_threshold"))
	n.spike = spikeOp{threshold: e.Threshold, slope: slope}
	if e.Feedback {
		n.yPrev, _ = mat("spk_y_init", e.Outputs, batch, nil) // zeros, never written
	}
	ys := make(G.Nodes, 0, e.Window)
	for t := 0; t < e.Window; t++ {
		x, xv := mat(fmt.Sprintf("spk_x%d", t), f, batch, nil)
		sg.xTV = append(sg.xTV, xv)
		if err := n.membrane(t, x); err != nil {
			return nil, err
		}
		y, err := n.readout(t)
		if err != nil {
			return nil, err
		}
		ys = append(ys, y)
	}
	pred := ys[0]
	if len(ys) > 1 {
		var err error
		if pred, err = G.Concat(0, ys...); err != nil {
			return nil, fmt.Errorf("train: spiking graph: concatenating the readouts: %w", err)
		}
	}
	loss, err := maskedSquaredError(pred, yT, mT, scale)
	if err != nil {
		return nil, err
	}
	if err := sg.compile(g, loss, n.wIn, n.b, n.wRec, n.wOut, n.bOut); err != nil {
		return nil, fmt.Errorf("train: spiking graph gradients: %w", err)
	}
	return sg, nil
}

// spikingNodes are the nodes newSpikingGraph's steps share (parameters and
// constants) and carry from one step to the next (membrane, spikes, trace,
// last readout). The steps add their nodes in a fixed order, so the graph
// is the same node for node.
type spikingNodes struct {
	e                        *emulator.Spiking
	wIn, b, wRec, wOut, bOut *G.Node
	leak, decay, gain, theta *G.Node
	spike                    spikeOp
	v, s, r, yPrev           *G.Node
}

func spikingStepError(t int, what string, err error) error {
	return fmt.Errorf("train: spiking graph step %d: %s: %w", t, what, err)
}

// membrane adds step t's input current (with the fed-back readout), the
// recurrence, the bias, the leak and the subtractive reset: v and then s.
func (n *spikingNodes) membrane(t int, x *G.Node) error {
	if n.e.Feedback {
		var err error
		if x, err = G.Concat(0, x, n.yPrev); err != nil {
			return spikingStepError(t, "feedback input", err)
		}
	}
	cur, err := G.Mul(n.wIn, x)
	if err != nil {
		return spikingStepError(t, "input", err)
	}
	if t > 0 {
		rec, err := G.Mul(n.wRec, n.s)
		if err != nil {
			return spikingStepError(t, "recurrence", err)
		}
		if cur, err = G.Add(cur, rec); err != nil {
			return spikingStepError(t, "recurrence", err)
		}
	}
	if cur, err = G.BroadcastAdd(cur, n.b, nil, []byte{1}); err != nil {
		return spikingStepError(t, "bias", err)
	}
	if t == 0 {
		n.v = cur
	} else {
		lv, err := G.Mul(n.leak, n.v)
		if err != nil {
			return spikingStepError(t, "leak", err)
		}
		reset, err := G.Mul(n.theta, n.s)
		if err != nil {
			return spikingStepError(t, "reset", err)
		}
		if n.v, err = G.Add(lv, cur); err != nil {
			return spikingStepError(t, "membrane", err)
		}
		if n.v, err = G.Sub(n.v, reset); err != nil {
			return spikingStepError(t, "reset", err)
		}
	}
	return nil
}

// readout adds step t's spikes, their trace and the readout (integrating
// when the readout is fed back) and returns the readout.
func (n *spikingNodes) readout(t int) (*G.Node, error) {
	var err error
	if n.s, err = G.ApplyOp(n.spike, n.v); err != nil {
		return nil, spikingStepError(t, "spike", err)
	}
	gs, err := G.Mul(n.gain, n.s)
	if err != nil {
		return nil, spikingStepError(t, "trace", err)
	}
	if t == 0 {
		n.r = gs
	} else {
		dr, err := G.Mul(n.decay, n.r)
		if err != nil {
			return nil, spikingStepError(t, "trace", err)
		}
		if n.r, err = G.Add(dr, gs); err != nil {
			return nil, spikingStepError(t, "trace", err)
		}
	}
	y, err := G.Mul(n.wOut, n.r)
	if err != nil {
		return nil, spikingStepError(t, "readout", err)
	}
	if y, err = G.BroadcastAdd(y, n.bOut, nil, []byte{1}); err != nil {
		return nil, spikingStepError(t, "readout bias", err)
	}
	if n.e.Feedback {
		if t > 0 {
			if y, err = G.Add(n.yPrev, y); err != nil {
				return nil, spikingStepError(t, "integrating readout", err)
			}
		}
		n.yPrev = y
	}
	return y, nil
}

// run computes the masked loss and the gradients for one batch of samples
// x (batch, Window*StepInputs+Context) and y (batch, Window*Outputs).
func (sg *spikingGraph) run(x, y []float32) (float32, [][]float32, bool, error) {
	e, batch := sg.e, sg.batch
	in := e.Window*e.StepInputs + e.Context
	for t, xv := range sg.xTV {
		xt := xv.Data().([]float32)
		for s := 0; s < batch; s++ {
			row := x[s*in : (s+1)*in]
			for i := 0; i < e.StepInputs; i++ {
				xt[i*batch+s] = row[t*e.StepInputs+i]
			}
			for i := 0; i < e.Context; i++ {
				xt[(e.StepInputs+i)*batch+s] = row[e.Window*e.StepInputs+i]
			}
		}

	}
	out := e.Window * e.Outputs
	yt, mt := sg.yTV.Data().([]float32), sg.mTV.Data().([]float32)
	count := 0
	for s := 0; s < batch; s++ {
		for i := 0; i < out; i++ {
			v := y[s*out+i]
			if math.IsNaN(float64(v)) {
				yt[i*batch+s], mt[i*batch+s] = 0, 0
				continue
			}
			yt[i*batch+s], mt[i*batch+s] = v, 1
			count++
		}
	}
	if count == 0 {
		return 0, nil, false, nil
	}
	sg.scaleV.Data().([]float32)[0] = 1 / float32(count)
	loss, grads, err := sg.lossTape.run()
	if err != nil {
		return 0, nil, false, fmt.Errorf("running the spiking graph: %w", err)
	}
	return loss, grads, true, nil
}
