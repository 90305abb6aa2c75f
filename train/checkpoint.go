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
// gob-encoded checkpointOf, and the payload's CRC-32 (IEEE, LE). The CRC
// is checked before the payload is decoded, so a truncated or altered file is
// refused without touching the trainer. DQN and SQN checkpoints differ in
// their magic and their Config only.
const (
	checkpointMagic    = "SBDQNCK1"
	sqnCheckpointMagic = "SBSQNCK1"
)

// maxCheckpointBytes bounds the payload size read from a file header.
const maxCheckpointBytes = 1 << 34

// ErrCorruptCheckpoint reports a checkpoint file that fails its checks.
var ErrCorruptCheckpoint = errors.New("corrupt checkpoint")

// checkpointOf is the whole state of a Q-learning run with settings C.
type checkpointOf[C any] struct {
	FormatVersion int
	Config        C
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
	return saveCheckpoint(path, checkpointMagic, t.cfg, &t.qLearning)
}

// ResumeTrainer rebuilds a trainer from the checkpoint at path. cfg must equal
// the checkpoint's settings; otherwise the error lists the differences.
func ResumeTrainer(cfg Config, path string) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	st, err := readCheckpoint[Config](path, checkpointMagic, "DQN")
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
	if err := restoreCheckpoint(&t.qLearning, st, path, newQParams, t); err != nil {
		return nil, err
	}
	return t, nil
}

// saveCheckpoint writes q's state with the settings cfg to path atomically.
func saveCheckpoint[C any, P paramSet[P]](path, magic string, cfg C, q *qLearning[P]) error {
	st := checkpointOf[C]{
		FormatVersion: 1, Config: cfg, Step: q.step, Resets: q.resets, Obs: q.obs,
		EpReturn: q.epReturn, EpActions: q.epActions, EpLossSum: q.epLossSum, EpLossN: q.epLossN,
		Updates: q.updates, Returns: q.returns, SolvedStep: q.solvedStep, Metrics: q.metrics,
		Online: q.online.tensors(), Target: q.target.tensors(), AdamM: q.opt.m, AdamV: q.opt.v, AdamStep: q.opt.step,
		BestScore: q.bestScore, BestStep: q.bestStep,
	}
	if q.hasBest() {
		st.HasBest, st.Best = true, q.best.tensors()
	}
	var err error
	if st.ActRNG, err = q.actPCG.MarshalBinary(); err != nil {
		return fmt.Errorf("train: checkpoint %s: exploration RNG: %w", path, err)
	}
	if st.ReplayRNG, err = q.replayPCG.MarshalBinary(); err != nil {
		return fmt.Errorf("train: checkpoint %s: replay RNG: %w", path, err)
	}
	var rb bytes.Buffer
	if _, err := q.buf.WriteTo(&rb); err != nil {
		return fmt.Errorf("train: checkpoint %s: replay buffer: %w", path, err)
	}
	st.Replay = rb.Bytes()
	return writeFramed(path, magic, "checkpoint", &st)
}

// writeFramed writes v, gob-encoded, to path atomically in the checkpoint
// frame: magic, payload length (uint64 LE), payload, CRC-32 (IEEE, LE) of
// the payload. what names the file in errors ("checkpoint").
func writeFramed(path, magic, what string, v any) error {
	var payload bytes.Buffer
	if err := gob.NewEncoder(&payload).Encode(v); err != nil {
		return fmt.Errorf("train: %s %s: encode: %w", what, path, err)
	}
	return formats.WriteFileAtomic(path, func(w io.Writer) error {
		hdr := binary.LittleEndian.AppendUint64([]byte(magic), uint64(payload.Len()))
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

// readCheckpoint reads and verifies a checkpoint file of the given magic
// (kind names it in errors).
func readCheckpoint[C any](path, magic, kind string) (*checkpointOf[C], error) {
	var st checkpointOf[C]
	if err := readFramed(path, magic, "checkpoint", kind, &st); err != nil {
		return nil, err
	}
	if st.FormatVersion != 1 {
		return nil, fmt.Errorf("train: checkpoint %s: format version %d, this build reads 1", path, st.FormatVersion)
	}
	return &st, nil
}

// readFramed reads a file written by writeFramed and decodes its payload
// into v. The sizes are checked against the file's length and the CRC
// before anything is decoded. what and kind name the file in errors
// ("checkpoint", "not a spikebridge DQN checkpoint").
func readFramed(path, magic, what, kind string, v any) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("train: %s: %w", what, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("train: %s %s: %w", what, path, err)
	}
	hdr := make([]byte, len(magic)+8)
	if _, err := io.ReadFull(f, hdr); err != nil {
		return fmt.Errorf("train: %s %s: %w: header: %v", what, path, ErrCorruptCheckpoint, err)
	}
	if string(hdr[:len(magic)]) != magic {
		return fmt.Errorf("train: %s %s: %w: not a spikebridge %s checkpoint (magic %q)", what, path, ErrCorruptCheckpoint, kind, hdr[:len(magic)])
	}
	n := binary.LittleEndian.Uint64(hdr[len(magic):])
	if n > maxCheckpointBytes || int64(n) != info.Size()-int64(len(hdr))-4 {
		return fmt.Errorf("train: %s %s: %w: payload length %d does not fit the file size %d", what, path, ErrCorruptCheckpoint, n, info.Size())
	}
	payload := make([]byte, n+4)
	if _, err := io.ReadFull(f, payload); err != nil {
		return fmt.Errorf("train: %s %s: %w: %v", what, path, ErrCorruptCheckpoint, err)
	}
	sum := binary.LittleEndian.Uint32(payload[n:])
	payload = payload[:n]
	if crc32.ChecksumIEEE(payload) != sum {
		return fmt.Errorf("train: %s %s: %w: checksum mismatch", what, path, ErrCorruptCheckpoint)
	}
	if err := gob.NewDecoder(bytes.NewReader(payload)).Decode(v); err != nil {
		return fmt.Errorf("train: %s %s: %w: decode: %v", what, path, ErrCorruptCheckpoint, err)
	}
	return nil
}

// restoreCheckpoint loads st into q, a fresh run of the same settings, and
// rebuilds the env's state; l refreshes the networks that share q's
// parameters.
func restoreCheckpoint[C any, P paramSet[P]](q *qLearning[P], st *checkpointOf[C], path string, newParams func([]int) P, l learner) error {
	bad := func(what string, err error) error {
		return fmt.Errorf("train: checkpoint %s: %w: %s: %v", path, ErrCorruptCheckpoint, what, err)
	}
	if err := copyTensors(q.online.tensors(), st.Online); err != nil {
		return bad("online network", err)
	}
	if err := copyTensors(q.target.tensors(), st.Target); err != nil {
		return bad("target network", err)
	}
	l.paramsChanged()
	if err := copyTensors(q.opt.m, st.AdamM); err != nil {
		return bad("Adam first moments", err)
	}
	if err := copyTensors(q.opt.v, st.AdamV); err != nil {
		return bad("Adam second moments", err)
	}
	q.opt.step = st.AdamStep
	if st.HasBest {
		q.best = newParams(q.sizes)
		if err := copyTensors(q.best.tensors(), st.Best); err != nil {
			return bad("best network", err)
		}
	}
	q.bestScore, q.bestStep = st.BestScore, st.BestStep
	if err := q.actPCG.UnmarshalBinary(st.ActRNG); err != nil {
		return bad("exploration RNG", err)
	}
	if err := q.replayPCG.UnmarshalBinary(st.ReplayRNG); err != nil {
		return bad("replay RNG", err)
	}
	if _, err := q.buf.ReadFrom(bytes.NewReader(st.Replay)); err != nil {
		return bad("replay buffer", err)
	}
	if st.Step < 0 || st.Step > int64(q.loopCfg.Steps) || st.Resets < 1 || len(st.EpActions) > int(st.Step) {
		return bad("counters", fmt.Errorf("step %d, resets %d, episode length %d", st.Step, st.Resets, len(st.EpActions)))
	}
	q.step, q.resets = st.Step, st.Resets
	q.epReturn, q.epActions, q.epLossSum, q.epLossN = st.EpReturn, st.EpActions, st.EpLossSum, st.EpLossN
	q.updates, q.returns, q.solvedStep, q.metrics = st.Updates, st.Returns, st.SolvedStep, st.Metrics

	// The env's own random stream is not exported, so its state is rebuilt
	// by replaying: the same seed, the same number of resets, then the
	// current episode's actions. The result must match the saved observation.
	q.env.Seed(q.loopCfg.Seed)
	var obs []float32
	for i := int64(0); i < q.resets; i++ {
		obs = q.env.Reset()
	}
	for i, a := range q.epActions {
		res, err := q.env.Step(int(a))
		if err != nil {
			return bad("replaying the current episode", fmt.Errorf("action %d: %w", i, err))
		}
		obs = res.Obs
	}
	if len(obs) != len(st.Obs) {
		return bad("observation", fmt.Errorf("%d values, want %d", len(st.Obs), len(obs)))
	}
	for i := range obs {
		if math.Float32bits(obs[i]) != math.Float32bits(st.Obs[i]) {
			return bad("observation", fmt.Errorf("replayed environment gives %v, checkpoint holds %v", obs, st.Obs))
		}
	}
	q.obs = append(q.obs[:0], obs...)
	return nil
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
