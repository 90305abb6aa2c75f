package train

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/spikebridge/spikebridge/probe"
)

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
	f := newEmulatorFit(trainSet, val, cfg, pcg, h, run)
	if done, err := f.start(); done || err != nil {
		return f.res, err
	}
	for ; f.st.Epoch <= cfg.Epochs; f.st.Epoch++ {
		if f.st.Next == 0 {
			f.rng.Shuffle(len(f.order), func(i, j int) { f.order[i], f.order[j] = f.order[j], f.order[i] })
			f.st.LossSum, f.st.Batches = 0, 0
		}
		lr := emulatorLRAt(cfg, f.st.Epoch-1)
		for ; f.st.Next < len(f.order); f.st.Next += f.batch {
			if err := f.ctx.Err(); err != nil {
				if serr := f.save(); serr != nil {
					return f.res, serr
				}
				return f.res, fmt.Errorf("interrupted at epoch %d, batch %d: %w", f.st.Epoch, f.st.Next/f.batch+1, err)
			}
			if err := f.trainBatch(lr); err != nil {
				return f.res, err
			}
			f.status(false)
		}
		stop, err := f.endEpoch()
		if err != nil {
			return f.res, err
		}
		if stop || f.st.Epoch == cfg.Epochs {
			f.st.Finished = true
			return f.res, f.save()
		}
		if run.CheckpointEvery > 0 && f.st.Epoch%run.CheckpointEvery == 0 {
			f.st.Epoch++ // the checkpoint resumes at the next epoch's start
			err := f.save()
			f.st.Epoch--
			if err != nil {
				return f.res, err
			}
		}
	}
	f.st.Finished = true
	return f.res, f.save()
}

// emulatorFit is the state of one fitEmulator run: what its checkpoints
// hold (st, order, the parameters and Adam's moments) and the batch buffers.
type emulatorFit struct {
	trainSet, val     *probe.Samples
	cfg               EmulatorConfig
	pcg               *rand.PCG
	rng               *rand.Rand
	h                 fitHooks
	run               EmulatorRun
	ctx               context.Context
	opt               *adam
	res               EmulatorResult
	st                emulatorCheckpoint
	order             []int
	batch, batches    int
	x, y              []float32
	gradSel, paramSel [][]float32
}

func newEmulatorFit(trainSet, val *probe.Samples, cfg EmulatorConfig, pcg *rand.PCG, h fitHooks, run EmulatorRun) *emulatorFit {
	f := &emulatorFit{trainSet: trainSet, val: val, cfg: cfg, pcg: pcg, rng: rand.New(pcg), h: h, run: run}
	f.res = EmulatorResult{Samples: trainSet.Rows}
	f.batch = cfg.Batch
	f.batches = (trainSet.Rows + f.batch - 1) / f.batch
	f.opt = newAdam(h.params)
	f.ctx = run.Ctx
	if f.ctx == nil {
		f.ctx = context.Background()
	}
	var dataHash uint64
	if run.CheckpointPath != "" {
		dataHash = samplesHash(trainSet, val)
	}
	f.order = make([]int, trainSet.Rows)
	for i := range f.order {
		f.order[i] = i
	}
	f.st = emulatorCheckpoint{FormatVersion: 1, Kind: h.kind, Config: cfg, DataHash: dataHash, Epoch: 1}
	f.x = make([]float32, f.batch*trainSet.In)
	f.y = make([]float32, f.batch*trainSet.Out)
	return f
}

// start restores the run's checkpoint when it resumes (done: the run had
// finished), else measures the starting network as the best so far.
func (f *emulatorFit) start() (done bool, err error) {
	if !f.run.Resume {
		f.res.ValLoss = f.h.valLoss()
		copy2(f.h.best, f.h.params)
		return false, nil
	}
	if f.run.CheckpointPath == "" {
		return false, fmt.Errorf("resume: no checkpoint path")
	}
	saved, err := readEmulatorCheckpoint(f.run.CheckpointPath)
	if err != nil {
		return false, err
	}
	if err := saved.restore(f.run.CheckpointPath, f.h.kind, f.cfg, f.st.DataHash, f.h, f.opt, f.pcg, f.trainSet.Rows); err != nil {
		return false, err
	}
	f.st = *saved
	f.st.ResumedFromEpoch = f.st.Epoch - 1
	f.res = f.st.Result
	// Mid-epoch: the epoch's order; at an epoch's start: the previous
	// epoch's, which the next shuffle continues from.
	copy(f.order, f.st.Order)
	return f.st.Finished, nil
}

// save writes the checkpoint (when the run has a path).
func (f *emulatorFit) save() error {
	if f.run.CheckpointPath == "" {
		return nil
	}
	f.st.Result = f.res
	f.st.Order = f.order
	f.st.Params, f.st.Best = f.h.params, f.h.best
	f.st.AdamM, f.st.AdamV, f.st.AdamStep = f.opt.m, f.opt.v, f.opt.step
	var err error
	if f.st.RNG, err = f.pcg.MarshalBinary(); err != nil {
		return fmt.Errorf("checkpoint %s: shuffle RNG: %w", f.run.CheckpointPath, err)
	}
	return writeEmulatorCheckpoint(f.run.CheckpointPath, &f.st)
}

// status reports progress (done: at the end of an epoch).
func (f *emulatorFit) status(done bool) {
	if f.run.Progress == nil {
		return
	}
	s := EmulatorStatus{Epoch: f.st.Epoch, Epochs: f.cfg.Epochs, Batch: f.st.Next / f.batch, Batches: f.batches, EpochDone: done, ResumedFromEpoch: f.st.ResumedFromEpoch}
	if done {
		s.Batch = f.batches
	}
	if n := len(f.res.History); n > 0 {
		s.Last = f.res.History[n-1]
	}
	f.run.Progress(s)
}

// trainBatch runs the batch that starts at st.Next and updates the
// unfrozen tensors with Adam at learning rate lr.
func (f *emulatorFit) trainBatch(lr float64) error {
	start := f.st.Next
	clear(f.x)
	for i := range f.y {
		f.y[i] = float32(math.NaN())
	}
	for k := 0; k < f.batch && start+k < len(f.order); k++ {
		xr, yr := f.trainSet.Row(f.order[start+k])
		copy(f.x[k*f.trainSet.In:], xr)
		copy(f.y[k*f.trainSet.Out:], yr)
	}
	loss, grads, ok, err := f.h.run(f.x, f.y)
	if err != nil {
		return err
	}
	if !ok { // a batch with no target at all
		return nil
	}
	f.gradSel, f.paramSel = f.gradSel[:0], f.paramSel[:0]
	for _, i := range f.h.trainIdx {
		f.gradSel = append(f.gradSel, grads[i])
		f.paramSel = append(f.paramSel, f.h.params[i])
	}
	if f.cfg.GradClip > 0 {
		clipGradients(f.gradSel, f.cfg.GradClip)
	}
	f.opt.updateSubset(f.h.trainIdx, f.paramSel, f.gradSel, lr)
	f.st.LossSum += float64(loss)
	f.st.Batches++
	f.res.Updates++
	return nil
}

// endEpoch records the epoch's losses, keeps the network when it is the
// best so far and says whether patience has run out.
func (f *emulatorFit) endEpoch() (stop bool, err error) {
	es := EpochStats{Epoch: f.st.Epoch, TrainLoss: f.st.LossSum / float64(max(f.st.Batches, 1)), ValLoss: f.h.valLoss()}
	if math.IsNaN(es.ValLoss) || math.IsInf(es.ValLoss, 0) {
		return false, fmt.Errorf("validation loss %v at epoch %d: training diverged (lower the learning rate)", es.ValLoss, f.st.Epoch)
	}
	f.st.Next = 0
	f.res.History = append(f.res.History, es)
	f.res.Epochs = f.st.Epoch
	f.res.TrainLoss = es.TrainLoss
	f.status(true)
	if es.ValLoss < f.res.ValLoss {
		f.res.ValLoss, f.res.BestEpoch = es.ValLoss, f.st.Epoch
		copy2(f.h.best, f.h.params)
		f.st.SinceBest = 0
	} else if f.st.SinceBest++; f.cfg.Patience > 0 && f.st.SinceBest >= f.cfg.Patience {
		f.res.EarlyStop = true
		return true, nil
	}
	return false, nil
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
