package train

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/spikebridge/spikebridge/emulator"
	"github.com/spikebridge/spikebridge/model"
	"github.com/spikebridge/spikebridge/probe"
)

// EmulatorConfig is emulator.TrainConfig: the settings of the emulator
// trainers, recorded in every emulator file.
type EmulatorConfig = emulator.TrainConfig

// DefaultRateEmulatorConfig: two hidden ReLU layers of 64, batch 64, Adam 1e-3.
func DefaultRateEmulatorConfig() EmulatorConfig {
	return EmulatorConfig{Hidden: []int{64, 64}, Epochs: 200, Batch: 64, LR: 1e-3, Seed: 1, Patience: 20}
}

// EpochStats is one epoch of emulator training: the mean masked MSE (in
// standardised units) of the training batches and of the validation set.
type EpochStats struct {
	Epoch     int     `json:"epoch"`
	TrainLoss float64 `json:"train_loss"`
	ValLoss   float64 `json:"val_loss"`
}

// EmulatorResult reports an emulator run.
type EmulatorResult struct {
	Samples    int          `json:"samples"`
	ValSamples int          `json:"val_samples"`
	Epochs     int          `json:"epochs"`
	BestEpoch  int          `json:"best_epoch"`
	Updates    int          `json:"updates"`
	TrainLoss  float64      `json:"train_loss"`
	ValLoss    float64      `json:"val_loss"`
	EarlyStop  bool         `json:"early_stop"`
	History    []EpochStats `json:"history"`
}

func checkEmulatorConfig(cfg EmulatorConfig, what string) error {
	switch {
	case cfg.Epochs <= 0 || cfg.Batch <= 0:
		return fmt.Errorf("train: %s: epochs %d and batch %d must be positive", what, cfg.Epochs, cfg.Batch)
	case !(cfg.LR > 0) || math.IsInf(cfg.LR, 0):
		return fmt.Errorf("train: %s: learning rate %v, want > 0", what, cfg.LR)
	case cfg.LRFinal < 0 || math.IsInf(cfg.LRFinal, 0) || math.IsNaN(cfg.LRFinal):
		return fmt.Errorf("train: %s: final learning rate %v, want >= 0", what, cfg.LRFinal)
	case !(cfg.GradClip >= 0) || math.IsInf(cfg.GradClip, 0):
		return fmt.Errorf("train: %s: gradient clip %v, want >= 0", what, cfg.GradClip)
	case cfg.Patience < 0:
		return fmt.Errorf("train: %s: patience %d, want >= 0", what, cfg.Patience)
	case cfg.ClipFloor < 0:
		return fmt.Errorf("train: %s: clip-floor levels %d, want >= 0", what, cfg.ClipFloor)
	case len(cfg.Hidden) == 0:
		return fmt.Errorf("train: %s: needs at least one hidden layer", what)
	}
	for i, h := range cfg.Hidden {
		if h <= 0 {
			return fmt.Errorf("train: %s: hidden layer %d width %d, want > 0", what, i+1, h)
		}
	}
	return nil
}

// emulatorLRAt is the learning rate of an epoch: constant, or cosine to LRFinal.
func emulatorLRAt(cfg EmulatorConfig, epoch int) float64 {
	if cfg.LRFinal <= 0 || cfg.Epochs <= 1 {
		return cfg.LR
	}
	f := float64(epoch) / float64(cfg.Epochs-1)
	return cfg.LRFinal + 0.5*(cfg.LR-cfg.LRFinal)*(1+math.Cos(math.Pi*f))
}

func checkSamples(what string, s *probe.Samples) error {
	if s == nil || s.Rows == 0 {
		return fmt.Errorf("train: %s: no samples", what)
	}
	if len(s.X) != s.Rows*s.In || len(s.Y) != s.Rows*s.Out {
		return fmt.Errorf("train: %s: %d rows but %d feature and %d target values for %d -> %d", what, s.Rows, len(s.X), len(s.Y), s.In, s.Out)
	}
	for i, v := range s.X {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("train: %s: sample %d, feature %d is %v, want a finite number", what, i/s.In, i%s.In, v)
		}
	}
	finite := 0
	for _, v := range s.Y {
		if math.IsInf(float64(v), 0) {
			return fmt.Errorf("train: %s: a target is %v, want a finite number or NaN (missing)", what, v)
		}
		if !math.IsNaN(float64(v)) {
			finite++
		}
	}
	if finite == 0 {
		return fmt.Errorf("train: %s: every target is NaN (missing), nothing to learn from", what)
	}
	return nil
}

// frozenSet checks names against the known layers and returns the set.
func frozenSet(names, known []string) (map[string]bool, error) {
	set := map[string]bool{}
	for _, n := range names {
		if !slices.Contains(known, n) {
			return nil, fmt.Errorf("train: freeze %q: no such layer (have %v)", n, known)
		}
		set[n] = true
	}
	if len(set) == len(known) {
		return nil, fmt.Errorf("train: freeze %v: every layer is frozen, nothing would be trained", names)
	}
	return set, nil
}

// TrainRateEmulator trains an MLP (Dense+ReLU hidden layers, linear output)
// on standardised samples with the NaN-masked MSE and Adam, on Gorgonia,
// evaluating the masked MSE on val after every epoch and returning the
// network of the best epoch (early stopping after cfg.Patience epochs
// without improvement). init, when given, is the starting network (same
// sizes; it is not modified): with cfg.Freeze it fine-tunes chosen layers.
func TrainRateEmulator(trainSet, val *probe.Samples, init *model.Network, cfg EmulatorConfig, run EmulatorRun) (*model.Network, EmulatorResult, error) {
	var res EmulatorResult
	if err := checkEmulatorConfig(cfg, "rate emulator"); err != nil {
		return nil, res, err
	}
	if err := checkSamples("rate emulator: training set", trainSet); err != nil {
		return nil, res, err
	}
	if err := checkSamples("rate emulator: validation set", val); err != nil {
		return nil, res, err
	}
	if val.In != trainSet.In || val.Out != trainSet.Out {
		return nil, res, fmt.Errorf("train: rate emulator: validation samples are %d -> %d, training %d -> %d", val.In, val.Out, trainSet.In, trainSet.Out)
	}
	sizes := append(append([]int{trainSet.In}, cfg.Hidden...), trainSet.Out)
	params := newQParams(sizes)
	pcg := rand.NewPCG(cfg.Seed, 0xe4a1a7)
	rng := rand.New(pcg)
	if init != nil {
		if err := params.copyFromNetwork(init); err != nil {
			return nil, res, err
		}
	} else {
		params.initTorchDefault(rng)
	}
	names := make([]string, 0, len(sizes)-1) // model.MLP's Dense names
	for l := 1; l < len(sizes); l++ {
		names = append(names, fmt.Sprintf("fc%d", l))
	}
	frozen, err := frozenSet(cfg.Freeze, names)
	if err != nil {
		return nil, res, err
	}
	eg, err := newEmulatorGraph(params, cfg.Batch, cfg.ClipFloor)
	if err != nil {
		return nil, res, err
	}
	net := params.network()
	ws := net.NewWorkspace(1)
	valLoss := func() float64 {
		net.Refresh()
		return MaskedMSE(net, val, ws)
	}
	if cfg.ClipFloor > 0 {
		predict := model.ClipFloorPredictor(net, cfg.ClipFloor)
		valLoss = func() float64 {
			net.Refresh()
			return MaskedMSEOf(predict, val)
		}
	}
	trainIdx := trainableTensors(names, frozen)
	best := params.snapshot()
	res, err = fitEmulator(trainSet, val, cfg, pcg, fitHooks{
		kind:     "rate",
		params:   params.tensors(),
		best:     best.tensors(),
		trainIdx: trainIdx,
		run:      eg.run,
		valLoss:  valLoss,
	}, run)
	if err != nil {
		return nil, res, fmt.Errorf("train: rate emulator: %w", err)
	}
	res.ValSamples = val.Rows
	return best.network(), res, nil
}

// fitHooks connect fitEmulator to one kind of emulator.
type fitHooks struct {
	kind     string      // "rate" or "spiking", recorded in checkpoints
	params   [][]float32 // every parameter tensor, in the graph's gradient order
	best     [][]float32 // the best epoch's copy of params (same shapes)
	trainIdx []int       // indices of the tensors that are trained (not frozen)
	run      func(x, y []float32) (float32, [][]float32, bool, error)
	valLoss  func() float64 // masked MSE on the validation set with the current parameters
}

// fitEmulator is the training loop shared by the emulators: seeded shuffles
// of the samples, fixed-size batches (the last one padded with rows whose
// targets are all missing, so it counts exactly its real samples), Adam on
// the unfrozen tensors, the validation loss after every epoch, keep-best and
// early stopping; checkpoints, interruption and resumption per run.
func fitEmulator(trainSet, val *probe.Samples, cfg EmulatorConfig, pcg *rand.PCG, h fitHooks, run EmulatorRun) (EmulatorResult, error) {
	rng := rand.New(pcg)
	res := EmulatorResult{Samples: trainSet.Rows}
	batch := cfg.Batch
	batches := (trainSet.Rows + batch - 1) / batch
	opt := newAdam(h.params)
	ctx := run.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	var dataHash uint64
	if run.CheckpointPath != "" {
		dataHash = samplesHash(trainSet, val)
	}
	order := make([]int, trainSet.Rows)
	for i := range order {
		order[i] = i
	}
	st := emulatorCheckpoint{FormatVersion: 1, Kind: h.kind, Config: cfg, DataHash: dataHash, Epoch: 1}
	if run.Resume {
		if run.CheckpointPath == "" {
			return res, fmt.Errorf("resume: no checkpoint path")
		}
		saved, err := readEmulatorCheckpoint(run.CheckpointPath)
		if err != nil {
			return res, err
		}
		if err := saved.restore(run.CheckpointPath, h.kind, cfg, dataHash, h, opt, pcg, trainSet.Rows); err != nil {
			return res, err
		}
		st = *saved
		st.ResumedFromEpoch = st.Epoch - 1
		res = st.Result
		// Mid-epoch: the epoch's order; at an epoch's start: the previous
		// epoch's, which the next shuffle continues from.
		copy(order, st.Order)
		if st.Finished {
			return res, nil
		}
	} else {
		res.ValLoss = h.valLoss()
		copy2(h.best, h.params)
	}
	save := func() error {
		if run.CheckpointPath == "" {
			return nil
		}
		st.Result = res
		st.Order = order
		st.Params, st.Best = h.params, h.best
		st.AdamM, st.AdamV, st.AdamStep = opt.m, opt.v, opt.step
		var err error
		if st.RNG, err = pcg.MarshalBinary(); err != nil {
			return fmt.Errorf("checkpoint %s: shuffle RNG: %w", run.CheckpointPath, err)
		}
		return writeEmulatorCheckpoint(run.CheckpointPath, &st)
	}
	status := func(done bool) {
		if run.Progress == nil {
			return
		}
		s := EmulatorStatus{Epoch: st.Epoch, Epochs: cfg.Epochs, Batch: st.Next / batch, Batches: batches, EpochDone: done, ResumedFromEpoch: st.ResumedFromEpoch}
		if done {
			s.Batch = batches
		}
		if n := len(res.History); n > 0 {
			s.Last = res.History[n-1]
		}
		run.Progress(s)
	}
	x := make([]float32, batch*trainSet.In)
	y := make([]float32, batch*trainSet.Out)
	var gradSel, paramSel [][]float32
	for ; st.Epoch <= cfg.Epochs; st.Epoch++ {
		if st.Next == 0 {
			rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
			st.LossSum, st.Batches = 0, 0
		}
		lr := emulatorLRAt(cfg, st.Epoch-1)
		for ; st.Next < len(order); st.Next += batch {
			if err := ctx.Err(); err != nil {
				if serr := save(); serr != nil {
					return res, serr
				}
				return res, fmt.Errorf("interrupted at epoch %d, batch %d: %w", st.Epoch, st.Next/batch+1, err)
			}
			start := st.Next
			clear(x)
			for i := range y {
				y[i] = float32(math.NaN())
			}
			for k := 0; k < batch && start+k < len(order); k++ {
				xr, yr := trainSet.Row(order[start+k])
				copy(x[k*trainSet.In:], xr)
				copy(y[k*trainSet.Out:], yr)
			}
			loss, grads, ok, err := h.run(x, y)
			if err != nil {
				return res, err
			}
			if ok { // else a batch with no target at all
				gradSel, paramSel = gradSel[:0], paramSel[:0]
				for _, i := range h.trainIdx {
					gradSel = append(gradSel, grads[i])
					paramSel = append(paramSel, h.params[i])
				}
				if cfg.GradClip > 0 {
					clipGradients(gradSel, cfg.GradClip)
				}
				opt.updateSubset(h.trainIdx, paramSel, gradSel, lr)
				st.LossSum += float64(loss)
				st.Batches++
				res.Updates++
			}
			status(false)
		}
		es := EpochStats{Epoch: st.Epoch, TrainLoss: st.LossSum / float64(max(st.Batches, 1)), ValLoss: h.valLoss()}
		if math.IsNaN(es.ValLoss) || math.IsInf(es.ValLoss, 0) {
			return res, fmt.Errorf("validation loss %v at epoch %d: training diverged (lower the learning rate)", es.ValLoss, st.Epoch)
		}
		st.Next = 0
		res.History = append(res.History, es)
		res.Epochs = st.Epoch
		res.TrainLoss = es.TrainLoss
		status(true)
		stop := false
		if es.ValLoss < res.ValLoss {
			res.ValLoss, res.BestEpoch = es.ValLoss, st.Epoch
			copy2(h.best, h.params)
			st.SinceBest = 0
		} else if st.SinceBest++; cfg.Patience > 0 && st.SinceBest >= cfg.Patience {
			res.EarlyStop = true
			stop = true
		}
		if stop || st.Epoch == cfg.Epochs {
			st.Finished = true
			return res, save()
		}
		if run.CheckpointEvery > 0 && st.Epoch%run.CheckpointEvery == 0 {
			st.Epoch++ // the checkpoint resumes at the next epoch's start
			err := save()
			st.Epoch--
			if err != nil {
				return res, err
			}
		}
	}
	st.Finished = true
	return res, save()
}

// clipGradients scales grads in place to an L2 norm of at most limit.
func clipGradients(grads [][]float32, limit float64) {
	sum := 0.0
	for _, g := range grads {
		for _, v := range g {
			sum += float64(v) * float64(v)
		}
	}
	if norm := math.Sqrt(sum); norm > limit {
		f := float32(limit / norm)
		for _, g := range grads {
			for i := range g {
				g[i] *= f
			}
		}
	}
}

// copy2 copies every tensor of src into dst (same shapes).
func copy2(dst, src [][]float32) {
	for i := range dst {
		copy(dst[i], src[i])
	}
}

// updateSubset applies Adam to the parameter tensors with indices idx (into
// the moments), leaving the others (frozen layers) untouched.
func (a *adam) updateSubset(idx []int, params, grads [][]float32, lr float64) {
	m, v := a.m, a.v
	sm, sv := make([][]float32, len(idx)), make([][]float32, len(idx))
	for k, i := range idx {
		sm[k], sv[k] = m[i], v[i]
	}
	a.m, a.v = sm, sv
	a.update(params, grads, lr)
	a.m, a.v = m, v
}

// MaskedMSE is the mean of (net(x) - y)² over the non-NaN targets of s, in
// float64: the loss the emulators minimise (missing targets count nothing).
func MaskedMSE(net *model.Network, s *probe.Samples, ws *model.Workspace) float64 {
	return MaskedMSEOf(func(dst, x []float32) { net.Forward(dst, x, ws) }, s)
}

// MaskedMSEOf is MaskedMSE of any predictor (dst, x) of s's sizes.
func MaskedMSEOf(predict func(dst, x []float32), s *probe.Samples) float64 {
	pred := make([]float32, s.Out)
	sum, n := 0.0, 0
	for r := 0; r < s.Rows; r++ {
		x, y := s.Row(r)
		predict(pred, x)
		for i, v := range y {
			if math.IsNaN(float64(v)) {
				continue
			}
			e := float64(pred[i]) - float64(v)
			sum += e * e
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}

// emulatorGraph is the Gorgonia graph of the NaN-masked MSE of one batch:
// sum(mask ⊙ (h - y)²) / sum(mask), in lossGraph's transposed layout with
// the weights shared with qParams. Missing targets enter as y = 0, mask = 0,
// so they add nothing to the loss or to any gradient; the divisor counts
// only present targets, so the loss equals the mean over the samples left.
//
// With clip-floor levels > 0 every hidden activation is
// relu(z) − relu(z − 1) + res, where res = round(clip) − clip is computed in
// plain Go (params.forwardRows) and enters as a constant, so the forward
// pass is the rounded network and the gradient the clip's (straight through).
type emulatorGraph struct {
	batch, in, out int
	params         *qParams
	levels         int
	resTV          []*tensor.Dense // per hidden layer (out, batch), clip-floor only
	resid          [][]float32     // the resTV backings
	acts           [][]float32     // plain-Go forward scratch (batch, out) per layer
	vm             G.VM
	xTV, yTV, mTV  *tensor.Dense
	scaleV         *tensor.Dense
	lossVal        G.Value
	grads          G.Nodes
	gradBuf        [][]float32
}

func newEmulatorGraph(params *qParams, batch, levels int) (*emulatorGraph, error) {
	sizes := params.sizes
	in, out := sizes[0], sizes[len(sizes)-1]
	eg := &emulatorGraph{batch: batch, in: in, out: out, params: params, levels: levels}
	g := G.NewGraph()
	one := G.NewConstant(float32(1), G.WithName("emu_one"))
	eg.xTV = tensor.New(tensor.WithShape(in, batch), tensor.WithBacking(make([]float32, in*batch)))
	eg.yTV = tensor.New(tensor.WithShape(out, batch), tensor.WithBacking(make([]float32, out*batch)))
	eg.mTV = tensor.New(tensor.WithShape(out, batch), tensor.WithBacking(make([]float32, out*batch)))
	eg.scaleV = tensor.New(tensor.WithShape(1), tensor.WithBacking([]float32{0}))
	xT := G.NewMatrix(g, tensor.Float32, G.WithShape(in, batch), G.WithName("emu_xT"), G.WithValue(eg.xTV))
	yT := G.NewMatrix(g, tensor.Float32, G.WithShape(out, batch), G.WithName("emu_yT"), G.WithValue(eg.yTV))
	mT := G.NewMatrix(g, tensor.Float32, G.WithShape(out, batch), G.WithName("emu_maskT"), G.WithValue(eg.mTV))
	scale := G.NewVector(g, tensor.Float32, G.WithShape(1), G.WithName("emu_inv_count"), G.WithValue(eg.scaleV))
	h, learnables, resTV, err := clipFloorMLP(g, params, xT, one, batch, levels, "emu_", "emulator")
	if err != nil {
		return nil, err
	}
	eg.resTV = resTV
	for _, rv := range resTV {
		eg.resid = append(eg.resid, rv.Data().([]float32))
	}
	for l := 1; l < len(sizes); l++ {
		eg.acts = append(eg.acts, make([]float32, batch*sizes[l]))
	}
	loss, err := maskedSquaredError(h, yT, mT, scale)
	if err != nil {
		return nil, err
	}
	G.Read(loss, &eg.lossVal)
	if eg.grads, err = G.Grad(loss, learnables...); err != nil {
		return nil, fmt.Errorf("train: emulator graph gradients: %w", err)
	}
	eg.vm = G.NewTapeMachine(g)
	eg.gradBuf = make([][]float32, len(eg.grads))
	return eg, nil
}

// maskedSquaredError builds sum(mask ⊙ (pred - y)²) * scale as a scalar.
func maskedSquaredError(pred, y, mask, scale *G.Node) (*G.Node, error) {
	d, err := G.Sub(pred, y)
	if err != nil {
		return nil, fmt.Errorf("train: masked MSE: difference: %w", err)
	}
	d2, err := G.Square(d)
	if err != nil {
		return nil, fmt.Errorf("train: masked MSE: square: %w", err)
	}
	md, err := G.HadamardProd(d2, mask)
	if err != nil {
		return nil, fmt.Errorf("train: masked MSE: mask: %w", err)
	}
	s, err := G.Sum(md)
	if err != nil {
		return nil, fmt.Errorf("train: masked MSE: sum: %w", err)
	}
	sc, err := G.Sum(scale)
	if err != nil {
		return nil, fmt.Errorf("train: masked MSE: scale: %w", err)
	}
	return G.Mul(s, sc)
}

// setBatch writes x (batch, in) and y (batch, out, NaN = missing) into the
// graph's transposed inputs, mask and 1/count; it reports false when no
// target is present.
func (eg *emulatorGraph) setBatch(x, y []float32) bool {
	xt := eg.xTV.Data().([]float32)
	for s := 0; s < eg.batch; s++ {
		for f := 0; f < eg.in; f++ {
			xt[f*eg.batch+s] = x[s*eg.in+f]
		}
	}
	yt := eg.yTV.Data().([]float32)
	mt := eg.mTV.Data().([]float32)
	count := 0
	for s := 0; s < eg.batch; s++ {
		for f := 0; f < eg.out; f++ {
			v := y[s*eg.out+f]
			if math.IsNaN(float64(v)) {
				yt[f*eg.batch+s], mt[f*eg.batch+s] = 0, 0
				continue
			}
			yt[f*eg.batch+s], mt[f*eg.batch+s] = v, 1
			count++
		}
	}
	if count == 0 {
		return false
	}
	eg.scaleV.Data().([]float32)[0] = 1 / float32(count)
	return true
}

// run computes the masked loss and the gradients of every parameter tensor
// (qParams.tensors order) for one batch. Gradients alias Gorgonia's buffers
// until the next run. ok is false (and nothing runs) when no target is present.
func (eg *emulatorGraph) run(x, y []float32) (loss float32, grads [][]float32, ok bool, err error) {
	if !eg.setBatch(x, y) {
		return 0, nil, false, nil
	}
	if eg.levels > 0 {
		eg.params.forwardRows(x, eg.batch, eg.levels, eg.acts, eg.resid)
	}
	eg.vm.Reset()
	if err := eg.vm.RunAll(); err != nil {
		return 0, nil, false, fmt.Errorf("train: running the emulator graph: %w", err)
	}
	for i, gn := range eg.grads {
		eg.gradBuf[i] = gn.Value().Data().([]float32)
	}
	return eg.lossVal.Data().(float32), eg.gradBuf, true, nil
}

// trainableTensors returns the indices into params.tensors() (W1, b1, W2,
// ...) of the layers in names that are not frozen.
func trainableTensors(names []string, frozen map[string]bool) []int {
	idx := []int{}
	for l, n := range names {
		if !frozen[n] {
			idx = append(idx, 2*l, 2*l+1)
		}
	}
	return idx
}
