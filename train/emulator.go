package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

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

// checkSampleSets checks the training and validation sets (checkSamples)
// and that they have the same sizes; what names the trainer in errors.
func checkSampleSets(what string, trainSet, val *probe.Samples) error {
	if err := checkSamples(what+": training set", trainSet); err != nil {
		return err
	}
	if err := checkSamples(what+": validation set", val); err != nil {
		return err
	}
	if val.In != trainSet.In || val.Out != trainSet.Out {
		return fmt.Errorf("train: %s: validation samples are %d -> %d, training %d -> %d", what, val.In, val.Out, trainSet.In, trainSet.Out)
	}
	return nil
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
	if err := checkSampleSets("rate emulator", trainSet, val); err != nil {
		return nil, res, err
	}
	pcg := rand.NewPCG(cfg.Seed, 0xe4a1a7)
	m, err := newMLPEmulator(trainSet, init, cfg, pcg)
	if err != nil {
		return nil, res, err
	}
	params := m.params
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
	best, res, err := m.fit(trainSet, val, cfg, pcg, "rate", eg.run, valLoss, run)
	if err != nil {
		return nil, res, fmt.Errorf("train: rate emulator: %w", err)
	}
	return best, res, nil
}

// mlpEmulator is an MLP emulator being trained (rate or spiking forward):
// its parameters and the tensors that are not frozen.
type mlpEmulator struct {
	params   *qParams
	trainIdx []int
}

// newMLPEmulator sizes an MLP of cfg.Hidden layers for trainSet, starts it
// from init (copied) or draws it from pcg as PyTorch's default init does,
// and checks cfg.Freeze against its layers ("fc1", ...: model.MLP's Dense
// names).
func newMLPEmulator(trainSet *probe.Samples, init *model.Network, cfg EmulatorConfig, pcg *rand.PCG) (*mlpEmulator, error) {
	sizes := append(append([]int{trainSet.In}, cfg.Hidden...), trainSet.Out)
	params := newQParams(sizes)
	if init != nil {
		if err := params.copyFromNetwork(init); err != nil {
			return nil, err
		}
	} else {
		params.initTorchDefault(rand.New(pcg))
	}
	names := make([]string, 0, len(sizes)-1)
	for l := 1; l < len(sizes); l++ {
		names = append(names, fmt.Sprintf("fc%d", l))
	}
	frozen, err := frozenSet(cfg.Freeze, names)
	if err != nil {
		return nil, err
	}
	return &mlpEmulator{params: params, trainIdx: trainableTensors(names, frozen)}, nil
}

// fit runs fitEmulator on the MLP with the graph step run and the
// validation loss valLoss, and returns the best epoch's network.
func (m *mlpEmulator) fit(trainSet, val *probe.Samples, cfg EmulatorConfig, pcg *rand.PCG, kind string,
	step func(x, y []float32) (float32, [][]float32, bool, error), valLoss func() float64, run EmulatorRun) (*model.Network, EmulatorResult, error) {
	best := m.params.snapshot()
	res, err := fitEmulator(trainSet, val, cfg, pcg, fitHooks{
		kind:     kind,
		params:   m.params.tensors(),
		best:     best.tensors(),
		trainIdx: m.trainIdx,
		run:      step,
		valLoss:  valLoss,
	}, run)
	if err != nil {
		return nil, res, err
	}
	res.ValSamples = val.Rows
	return best.network(), res, nil
}
