package train

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"

	"github.com/spikebridge/spikebridge/formats"
)

// Checkpoint file layout: the magic, the payload length (uint64 LE), the
// gob-encoded checkpointState, and the payload's CRC-32 (IEEE, LE). The CRC
// is checked before the payload is decoded, so a truncated or altered file is
// refused without touching the trainer.
const checkpointMagic = "SBDQNCK1"

// maxCheckpointBytes bounds the payload size read from a file header.
const maxCheckpointBytes = 1 << 34

// ErrCorruptCheckpoint reports a checkpoint file that fails its checks.
var ErrCorruptCheckpoint = errors.New("corrupt checkpoint")

type checkpointState struct {
	FormatVersion int
	Config        Config
	Step, Resets  int64
	Obs           []float32
	EpReturn      float64
	EpActions     []int32
	EpLossSum     float64
	EpLossN       int
	Updates       int64
	Returns       []float64
	SolvedStep    int64
	Metrics       []Row
	Online        [][]float32
	Target        [][]float32
	AdamM, AdamV  [][]float32
	AdamStep      int64
	HasBest       bool
	Best          [][]float32
	BestScore     float64
	BestStep      int64
	ActRNG        []byte
	ReplayRNG     []byte
	Replay        []byte
}

// SaveCheckpoint writes the whole training state to path atomically.
func (t *Trainer) SaveCheckpoint(path string) error {
	st := checkpointState{
		FormatVersion: 1, Config: t.cfg, Step: t.step, Resets: t.resets, Obs: t.obs,
		EpReturn: t.epReturn, EpActions: t.epActions, EpLossSum: t.epLossSum, EpLossN: t.epLossN,
		Updates: t.updates, Returns: t.returns, SolvedStep: t.solvedStep, Metrics: t.metrics,
		Online: t.online.tensors(), Target: t.target.tensors(), AdamM: t.opt.m, AdamV: t.opt.v, AdamStep: t.opt.step,
		BestScore: t.bestScore, BestStep: t.bestStep,
	}
	if t.best != nil {
		st.HasBest, st.Best = true, t.best.tensors()
	}
	var err error
	if st.ActRNG, err = t.actPCG.MarshalBinary(); err != nil {
		return fmt.Errorf("train: checkpoint %s: exploration RNG: %w", path, err)
	}
	if st.ReplayRNG, err = t.replayPCG.MarshalBinary(); err != nil {
		return fmt.Errorf("train: checkpoint %s: replay RNG: %w", path, err)
	}
	var rb bytes.Buffer
	if _, err := t.buf.WriteTo(&rb); err != nil {
		return fmt.Errorf("train: checkpoint %s: replay buffer: %w", path, err)
	}
	st.Replay = rb.Bytes()
	var payload bytes.Buffer
	if err := gob.NewEncoder(&payload).Encode(&st); err != nil {
		return fmt.Errorf("train: checkpoint %s: encode: %w", path, err)
	}
	return formats.WriteFileAtomic(path, func(w io.Writer) error {
		hdr := binary.LittleEndian.AppendUint64([]byte(checkpointMagic), uint64(payload.Len()))
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

// readCheckpoint reads and verifies a checkpoint file.
func readCheckpoint(path string) (*checkpointState, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("train: checkpoint: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("train: checkpoint %s: %w", path, err)
	}
	hdr := make([]byte, len(checkpointMagic)+8)
	if _, err := io.ReadFull(f, hdr); err != nil {
		return nil, fmt.Errorf("train: checkpoint %s: %w: header: %v", path, ErrCorruptCheckpoint, err)
	}
	if string(hdr[:len(checkpointMagic)]) != checkpointMagic {
		return nil, fmt.Errorf("train: checkpoint %s: %w: not a spikebridge DQN checkpoint (magic %q)", path, ErrCorruptCheckpoint, hdr[:len(checkpointMagic)])
	}
	n := binary.LittleEndian.Uint64(hdr[len(checkpointMagic):])
	if n > maxCheckpointBytes || int64(n) != info.Size()-int64(len(hdr))-4 {
		return nil, fmt.Errorf("train: checkpoint %s: %w: payload length %d does not fit the file size %d", path, ErrCorruptCheckpoint, n, info.Size())
	}
	payload := make([]byte, n+4)
	if _, err := io.ReadFull(f, payload); err != nil {
		return nil, fmt.Errorf("train: checkpoint %s: %w: %v", path, ErrCorruptCheckpoint, err)
	}
	sum := binary.LittleEndian.Uint32(payload[n:])
	payload = payload[:n]
	if crc32.ChecksumIEEE(payload) != sum {
		return nil, fmt.Errorf("train: checkpoint %s: %w: checksum mismatch", path, ErrCorruptCheckpoint)
	}
	var st checkpointState
	if err := gob.NewDecoder(bytes.NewReader(payload)).Decode(&st); err != nil {
		return nil, fmt.Errorf("train: checkpoint %s: %w: decode: %v", path, ErrCorruptCheckpoint, err)
	}
	if st.FormatVersion != 1 {
		return nil, fmt.Errorf("train: checkpoint %s: format version %d, this build reads 1", path, st.FormatVersion)
	}
	return &st, nil
}

// ResumeTrainer rebuilds a trainer from the checkpoint at path. cfg must equal
// the checkpoint's settings; otherwise the error lists the differences.
func ResumeTrainer(cfg Config, path string) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	st, err := readCheckpoint(path)
	if err != nil {
		return nil, err
	}
	if d := cfg.diff(st.Config); d != "" {
		return nil, fmt.Errorf("train: checkpoint %s was written with other settings: %s", path, d)
	}
	t, err := newTrainer(cfg)
	if err != nil {
		return nil, err
	}
	bad := func(what string, err error) error {
		return fmt.Errorf("train: checkpoint %s: %w: %s: %v", path, ErrCorruptCheckpoint, what, err)
	}
	if err := copyTensors(t.online.tensors(), st.Online); err != nil {
		return nil, bad("online network", err)
	}
	if err := copyTensors(t.target.tensors(), st.Target); err != nil {
		return nil, bad("target network", err)
	}
	t.paramsChanged()
	if err := copyTensors(t.opt.m, st.AdamM); err != nil {
		return nil, bad("Adam first moments", err)
	}
	if err := copyTensors(t.opt.v, st.AdamV); err != nil {
		return nil, bad("Adam second moments", err)
	}
	t.opt.step = st.AdamStep
	if st.HasBest {
		t.best = newQParams(t.sizes)
		if err := copyTensors(t.best.tensors(), st.Best); err != nil {
			return nil, bad("best network", err)
		}
	}
	t.bestScore, t.bestStep = st.BestScore, st.BestStep
	if err := t.actPCG.UnmarshalBinary(st.ActRNG); err != nil {
		return nil, bad("exploration RNG", err)
	}
	if err := t.replayPCG.UnmarshalBinary(st.ReplayRNG); err != nil {
		return nil, bad("replay RNG", err)
	}
	if _, err := t.buf.ReadFrom(bytes.NewReader(st.Replay)); err != nil {
		return nil, bad("replay buffer", err)
	}
	if st.Step < 0 || st.Step > int64(cfg.Steps) || st.Resets < 1 || len(st.EpActions) > int(st.Step) {
		return nil, bad("counters", fmt.Errorf("step %d, resets %d, episode length %d", st.Step, st.Resets, len(st.EpActions)))
	}
	t.step, t.resets = st.Step, st.Resets
	t.epReturn, t.epActions, t.epLossSum, t.epLossN = st.EpReturn, st.EpActions, st.EpLossSum, st.EpLossN
	t.updates, t.returns, t.solvedStep, t.metrics = st.Updates, st.Returns, st.SolvedStep, st.Metrics

	// The env's own random stream is not exported, so its state is rebuilt
	// by replaying: the same seed, the same number of resets, then the
	// current episode's actions. The result must match the saved observation.
	t.env.Seed(cfg.Seed)
	var obs []float32
	for i := int64(0); i < t.resets; i++ {
		obs = t.env.Reset()
	}
	for i, a := range t.epActions {
		res, err := t.env.Step(int(a))
		if err != nil {
			return nil, bad("replaying the current episode", fmt.Errorf("action %d: %w", i, err))
		}
		obs = res.Obs
	}
	if len(obs) != len(st.Obs) {
		return nil, bad("observation", fmt.Errorf("%d values, want %d", len(st.Obs), len(obs)))
	}
	for i := range obs {
		if math.Float32bits(obs[i]) != math.Float32bits(st.Obs[i]) {
			return nil, bad("observation", fmt.Errorf("replayed environment gives %v, checkpoint holds %v", obs, st.Obs))
		}
	}
	t.obs = append(t.obs[:0], obs...)
	return t, nil
}

func copyTensors(dst, src [][]float32) error {
	if len(dst) != len(src) {
		return fmt.Errorf("%d tensors, want %d", len(src), len(dst))
	}
	for i := range dst {
		if len(dst[i]) != len(src[i]) {
			return fmt.Errorf("tensor %d holds %d values, want %d", i, len(src[i]), len(dst[i]))
		}
		copy(dst[i], src[i])
	}
	return nil
}
