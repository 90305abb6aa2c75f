package train

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"reflect"

	"github.com/spikebridge/spikebridge/probe"
)

// EmulatorRun steers one emulator training run beyond its settings:
// interruption, checkpoints, resumption and progress. The zero value trains
// uninterrupted without checkpoints.
type EmulatorRun struct {
	// Ctx, when cancelled, stops the run between two batches; with a
	// CheckpointPath the state at that batch is written first. The trainer
	// then returns an error wrapping ctx.Err().
	Ctx context.Context
	// CheckpointPath is where checkpoints go ("" = none). One is written
	// every CheckpointEvery epochs (0 = only on interruption), on
	// interruption and when the run ends.
	CheckpointPath  string
	CheckpointEvery int
	// Resume continues the run saved at CheckpointPath, which must have been
	// written with the same settings, kind and samples. The result equals
	// an uninterrupted run's bit for bit.
	Resume bool
	// Progress is called after every batch and every epoch.
	Progress EmulatorProgress
}

// EmulatorStatus is what EmulatorProgress reports: the position in the run
// and, once an epoch is done (EpochDone), its losses in Last.
type EmulatorStatus struct {
	Epoch, Epochs    int // the epoch under way (1-based) and the most epochs
	Batch, Batches   int // batches done in this epoch, and per epoch
	EpochDone        bool
	Last             EpochStats // the last finished epoch (zero before the first)
	ResumedFromEpoch int        // the epochs already done when this process started
}

// EmulatorProgress receives the training status.
type EmulatorProgress func(s EmulatorStatus)

// Emulator checkpoint file layout, as the DQN's (checkpoint.go): magic,
// payload length (uint64 LE), gob payload, CRC-32 IEEE of the payload (LE).
const emulatorCheckpointMagic = "SBEMUCK1"

// emulatorCheckpoint is the whole state of fitEmulator between two batches.
type emulatorCheckpoint struct {
	FormatVersion int
	Kind          string
	Config        EmulatorConfig
	DataHash      uint64
	// Epoch is the epoch under way (1-based), Next the position of its next
	// batch in Order (the epoch's shuffled sample order), LossSum and
	// Batches its running training loss. Next == 0 with Epoch == Epochs+1
	// or Finished: the run is over.
	Epoch, Next      int
	Order            []int
	LossSum          float64
	Batches          int
	SinceBest        int
	Finished         bool
	Result           EmulatorResult
	Params, Best     [][]float32
	AdamM, AdamV     [][]float32
	AdamStep         int64
	RNG              []byte
	ResumedFromEpoch int
}

// samplesHash fingerprints training and validation samples, so a checkpoint
// is not resumed on other data.
func samplesHash(sets ...*probe.Samples) uint64 {
	h := fnv.New64a()
	var b [8]byte
	for _, s := range sets {
		binary.LittleEndian.PutUint64(b[:], uint64(s.Rows)<<32|uint64(s.In)<<16|uint64(s.Out))
		h.Write(b[:])
		buf := make([]byte, 0, 4096)
		for _, part := range [][]float32{s.X, s.Y} {
			for _, v := range part {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
				if len(buf) == cap(buf) {
					h.Write(buf)
					buf = buf[:0]
				}
			}
		}
		h.Write(buf)
	}
	return h.Sum64()
}

func writeEmulatorCheckpoint(path string, st *emulatorCheckpoint) error {
	return writeFramed(path, emulatorCheckpointMagic, "emulator checkpoint", st)
}

func readEmulatorCheckpoint(path string) (*emulatorCheckpoint, error) {
	var st emulatorCheckpoint
	if err := readFramed(path, emulatorCheckpointMagic, "emulator checkpoint", "emulator", &st); err != nil {
		return nil, err
	}
	if st.FormatVersion != 1 {
		return nil, fmt.Errorf("train: emulator checkpoint %s: format version %d, this build reads 1", path, st.FormatVersion)
	}
	return &st, nil
}

// restore puts a checkpoint's state into the trainer's buffers after
// checking that it belongs to this run.
func (st *emulatorCheckpoint) restore(path, kind string, cfg EmulatorConfig, dataHash uint64, h fitHooks, opt *adam, pcg *rand.PCG, rows int) error {
	switch {
	case st.Kind != kind:
		return fmt.Errorf("train: emulator checkpoint %s holds a %s emulator, this run trains a %s one", path, st.Kind, kind)
	case !reflect.DeepEqual(st.Config, cfg):
		return fmt.Errorf("train: emulator checkpoint %s was written with other settings: %+v, this run has %+v", path, st.Config, cfg)
	case st.DataHash != dataHash:
		return fmt.Errorf("train: emulator checkpoint %s was written for other samples (data or windowing changed)", path)
	}
	bad := func(what string, err error) error {
		return fmt.Errorf("train: emulator checkpoint %s: %w: %s: %v", path, ErrCorruptCheckpoint, what, err)
	}
	if err := copyTensors(h.params, st.Params); err != nil {
		return bad("parameters", err)
	}
	if err := copyTensors(h.best, st.Best); err != nil {
		return bad("best parameters", err)
	}
	if err := copyTensors(opt.m, st.AdamM); err != nil {
		return bad("Adam first moments", err)
	}
	if err := copyTensors(opt.v, st.AdamV); err != nil {
		return bad("Adam second moments", err)
	}
	opt.step = st.AdamStep
	if err := pcg.UnmarshalBinary(st.RNG); err != nil {
		return bad("shuffle RNG", err)
	}
	if st.Epoch < 1 || st.Epoch > cfg.Epochs+1 || st.Next < 0 || st.Next > rows || len(st.Order) != rows {
		return bad("counters", fmt.Errorf("epoch %d, position %d of %d samples", st.Epoch, st.Next, len(st.Order)))
	}
	return nil
}
