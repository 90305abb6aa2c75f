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
