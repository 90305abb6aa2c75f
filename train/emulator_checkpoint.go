package train

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/gob"
	"fmt"
	"hash/crc32"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"reflect"

	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/replay"
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
func samplesHash(sets ...*replay.Samples) uint64 {
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
	var payload bytes.Buffer
	if err := gob.NewEncoder(&payload).Encode(st); err != nil {
		return fmt.Errorf("train: emulator checkpoint %s: encode: %w", path, err)
	}
	return formats.WriteFileAtomic(path, func(w io.Writer) error {
		hdr := binary.LittleEndian.AppendUint64([]byte(emulatorCheckpointMagic), uint64(payload.Len()))
		if _, err := w.Write(hdr); err != nil {
			return err
		}
		if _, err := w.Write(payload.Bytes()); err != nil {
			return err
		}
		_, err := w.Write(binary.LittleEndian.AppendUint32(nil, crc32.ChecksumIEEE(payload.Bytes())))
		return err
	})
}

func readEmulatorCheckpoint(path string) (*emulatorCheckpoint, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("train: emulator checkpoint: %w", err)
	}
	hdr := len(emulatorCheckpointMagic) + 8
	if len(data) < hdr+4 || string(data[:len(emulatorCheckpointMagic)]) != emulatorCheckpointMagic {
		return nil, fmt.Errorf("train: emulator checkpoint %s: %w: not a spikebridge emulator checkpoint", path, ErrCorruptCheckpoint)
	}
	n := binary.LittleEndian.Uint64(data[len(emulatorCheckpointMagic):hdr])
	if n != uint64(len(data)-hdr-4) {
		return nil, fmt.Errorf("train: emulator checkpoint %s: %w: payload length %d does not fit the file size %d", path, ErrCorruptCheckpoint, n, len(data))
	}
	payload := data[hdr : hdr+int(n)]
	if crc32.ChecksumIEEE(payload) != binary.LittleEndian.Uint32(data[hdr+int(n):]) {
		return nil, fmt.Errorf("train: emulator checkpoint %s: %w: checksum mismatch", path, ErrCorruptCheckpoint)
	}
	var st emulatorCheckpoint
	if err := gob.NewDecoder(bytes.NewReader(payload)).Decode(&st); err != nil {
		return nil, fmt.Errorf("train: emulator checkpoint %s: %w: decode: %v", path, ErrCorruptCheckpoint, err)
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
