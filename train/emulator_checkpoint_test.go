package train

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// interruptAt returns a run that cancels itself when the status reaches the
// given epoch and batch, checkpointing every epoch into path.
func interruptAt(path string, epoch, batch int) EmulatorRun {
	ctx, cancel := context.WithCancel(context.Background())
	return EmulatorRun{Ctx: ctx, CheckpointPath: path, CheckpointEvery: 1, Progress: func(s EmulatorStatus) {
		if s.Epoch == epoch && s.Batch == batch && !s.EpochDone {
			cancel()
		}
	}}
}

// A rate emulator interrupted mid-epoch and resumed from its checkpoint ends
// with the weights, history and result of an uninterrupted run, bit for bit;
// so does one resumed at an epoch boundary. A finished run's checkpoint
// resumes to the same result at once.
func TestRateEmulatorResumeIsExact(t *testing.T) {
	trainSet, val := linearSamples(200, 4, 3, 7), linearSamples(64, 4, 3, 8)
	cfg := EmulatorConfig{Hidden: []int{16, 16}, Epochs: 6, Batch: 32, LR: 3e-3, LRFinal: 1e-4, Seed: 3}
	want, wantRes, err := TrainRateEmulator(trainSet, val, nil, cfg, EmulatorRun{})
	if err != nil {
		t.Fatal(err)
	}
	for _, stop := range []struct{ epoch, batch int }{{3, 4}, {4, 0}} {
		path := filepath.Join(t.TempDir(), "ckpt.bin")
		_, _, err := TrainRateEmulator(trainSet, val, nil, cfg, interruptAt(path, stop.epoch, stop.batch))
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("interrupted run: error %v, want context.Canceled", err)
		}
		var statuses []EmulatorStatus
		got, gotRes, err := TrainRateEmulator(trainSet, val, nil, cfg, EmulatorRun{CheckpointPath: path, CheckpointEvery: 1, Resume: true,
			Progress: func(s EmulatorStatus) { statuses = append(statuses, s) }})
		if err != nil {
			t.Fatalf("resume after epoch %d batch %d: %v", stop.epoch, stop.batch, err)
		}
		if statuses[0].ResumedFromEpoch != stop.epoch-1 || statuses[0].Epoch != stop.epoch {
			t.Errorf("first status after resuming %+v, want epoch %d", statuses[0], stop.epoch)
		}
		for i, l := range got.Layers() {
			if !slices.Equal(l.Weights, want.Layers()[i].Weights) || !slices.Equal(l.Bias, want.Layers()[i].Bias) {
				t.Errorf("stop at epoch %d batch %d: layer %s differs from the uninterrupted run's", stop.epoch, stop.batch, l.Name)
			}
		}
		if !reflect.DeepEqual(gotRes, wantRes) {
			t.Errorf("stop at epoch %d batch %d: result\n%+v\nwant\n%+v", stop.epoch, stop.batch, gotRes, wantRes)
		}
		// The finished run's checkpoint: the same result, no more training.
		again, againRes, err := TrainRateEmulator(trainSet, val, nil, cfg, EmulatorRun{CheckpointPath: path, Resume: true})
		if err != nil || !reflect.DeepEqual(againRes, wantRes) || !slices.Equal(again.Layers()[0].Weights, want.Layers()[0].Weights) {
			t.Errorf("resuming a finished run: %v, %+v", err, againRes)
		}
	}
}

func TestSpikingEmulatorResumeIsExact(t *testing.T) {
	const window = 6
	trainSet, val := seqSamples(96, window, 4), seqSamples(32, window, 5)
	cfg := EmulatorConfig{Hidden: []int{12}, Epochs: 3, Batch: 16, LR: 5e-3, Seed: 2}
	want, wantRes, err := TrainSpikingEmulator(trainSet, val, window, nil, cfg, EmulatorRun{})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ckpt.bin")
	if _, _, err := TrainSpikingEmulator(trainSet, val, window, nil, cfg, interruptAt(path, 2, 3)); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: error %v, want context.Canceled", err)
	}
	got, gotRes, err := TrainSpikingEmulator(trainSet, val, window, nil, cfg, EmulatorRun{CheckpointPath: path, Resume: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range spikingTensors(got) {
		if !slices.Equal(p, spikingTensors(want)[i]) {
			t.Errorf("parameter tensor %d differs from the uninterrupted run's", i)
		}
	}
	if !reflect.DeepEqual(gotRes, wantRes) {
		t.Errorf("result %+v, want %+v", gotRes, wantRes)
	}
}

// A checkpoint is refused for other settings, other samples, another kind of
// emulator, and when it is damaged.
func TestEmulatorResumeRefusesMismatch(t *testing.T) {
	trainSet, val := linearSamples(64, 4, 3, 7), linearSamples(32, 4, 3, 8)
	cfg := EmulatorConfig{Hidden: []int{8}, Epochs: 4, Batch: 16, LR: 3e-3, Seed: 3}
	path := filepath.Join(t.TempDir(), "ckpt.bin")
	if _, _, err := TrainRateEmulator(trainSet, val, nil, cfg, interruptAt(path, 2, 1)); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	resume := EmulatorRun{CheckpointPath: path, Resume: true}
	other := cfg
	other.LR = 1e-3
	otherData := linearSamples(64, 4, 3, 9)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	flipped := slices.Clone(data)
	flipped[len(flipped)/2] ^= 1
	damaged := filepath.Join(t.TempDir(), "damaged.bin")
	if err := os.WriteFile(damaged, flipped, 0o644); err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(t.TempDir(), "truncated.bin")
	if err := os.WriteFile(truncated, data[:len(data)-9], 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		run  func() error
		want string
	}{
		{"other settings", func() error { _, _, err := TrainRateEmulator(trainSet, val, nil, other, resume); return err }, "other settings"},
		{"other samples", func() error { _, _, err := TrainRateEmulator(otherData, val, nil, cfg, resume); return err }, "other samples"},
		{"spiking on a rate checkpoint", func() error {
			s, v := seqSamples(32, 4, 1), seqSamples(16, 4, 2)
			_, _, err := TrainSpikingEmulator(s, v, 4, nil, EmulatorConfig{Hidden: []int{8}, Epochs: 4, Batch: 16, LR: 3e-3, Seed: 3}, resume)
			return err
		}, "holds a rate emulator"},
		{"damaged", func() error {
			_, _, err := TrainRateEmulator(trainSet, val, nil, cfg, EmulatorRun{CheckpointPath: damaged, Resume: true})
			return err
		}, "checksum mismatch"},
		{"truncated", func() error {
			_, _, err := TrainRateEmulator(trainSet, val, nil, cfg, EmulatorRun{CheckpointPath: truncated, Resume: true})
			return err
		}, "does not fit the file size"},
	} {
		err := tc.run()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}
