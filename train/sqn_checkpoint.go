package train

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"

	"github.com/spikebridge/spikebridge/formats"
)

// SQN checkpoints use the DQN checkpoint's layout (magic, payload length,
// gob payload, CRC-32) with their own magic and payload.
const sqnCheckpointMagic = "SBSQNCK1"

type sqnCheckpointState struct {
	FormatVersion int
	Config        SQNConfig
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
func (t *SQNTrainer) SaveCheckpoint(path string) error {
	st := sqnCheckpointState{
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
		hdr := binary.LittleEndian.AppendUint64([]byte(sqnCheckpointMagic), uint64(payload.Len()))
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

func readSQNCheckpoint(path string) (*sqnCheckpointState, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("train: checkpoint: %w", err)
	}
	h := len(sqnCheckpointMagic) + 8
	if len(data) < h+4 {
		return nil, fmt.Errorf("train: checkpoint %s: %w: %d bytes, shorter than a header", path, ErrCorruptCheckpoint, len(data))
	}
	if string(data[:len(sqnCheckpointMagic)]) != sqnCheckpointMagic {
		return nil, fmt.Errorf("train: checkpoint %s: %w: not a spikebridge SQN checkpoint (magic %q)", path, ErrCorruptCheckpoint, data[:len(sqnCheckpointMagic)])
	}
	n := binary.LittleEndian.Uint64(data[len(sqnCheckpointMagic):h])
	if n != uint64(len(data)-h-4) {
		return nil, fmt.Errorf("train: checkpoint %s: %w: payload length %d does not fit the file size %d", path, ErrCorruptCheckpoint, n, len(data))
	}
	payload := data[h : h+int(n)]
	if crc32.ChecksumIEEE(payload) != binary.LittleEndian.Uint32(data[h+int(n):]) {
		return nil, fmt.Errorf("train: checkpoint %s: %w: checksum mismatch", path, ErrCorruptCheckpoint)
	}
	var st sqnCheckpointState
	if err := gob.NewDecoder(bytes.NewReader(payload)).Decode(&st); err != nil {
		return nil, fmt.Errorf("train: checkpoint %s: %w: decode: %v", path, ErrCorruptCheckpoint, err)
	}
	if st.FormatVersion != 1 {
		return nil, fmt.Errorf("train: checkpoint %s: format version %d, this build reads 1", path, st.FormatVersion)
	}
	return &st, nil
}

// ResumeSQNTrainer rebuilds a trainer from the checkpoint at path; cfg must
// equal the checkpoint's settings (the error lists the differences).
func ResumeSQNTrainer(cfg SQNConfig, path string) (*SQNTrainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	st, err := readSQNCheckpoint(path)
	if err != nil {
		return nil, err
	}
	d := cfg.Config.diff(st.Config.Config)
	if a, b := cfg, st.Config; a.Timesteps != b.Timesteps || a.Threshold != b.Threshold || a.Leak != b.Leak ||
		a.Surrogate != b.Surrogate || a.SurrogateK != b.SurrogateK || a.GradClip != b.GradClip {
		d += fmt.Sprintf("; neurons %+v (checkpoint) vs %+v (now)", b.neurons(), a.neurons())
	}
	if d != "" {
		return nil, fmt.Errorf("train: checkpoint %s was written with other settings: %s", path, d)
	}
	t, err := newSQNTrainer(cfg)
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
		t.best = newSQNParams(t.sizes)
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

	// Rebuild the env's random stream by replaying resets and the current
	// episode's actions (as ResumeTrainer); the observation must match.
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
