package train

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// FuzzResumeTrainer feeds arbitrary bytes as a checkpoint: ResumeTrainer must
// return an error or a trainer, never panic or hang. Seeded with a real one.
func FuzzResumeTrainer(f *testing.F) {
	cfg := smallConfig()
	cfg.Buffer, cfg.Hidden = 64, []int{4}
	dir := f.TempDir()
	seed := filepath.Join(dir, "seed.bin")
	tr, err := NewTrainer(cfg)
	if err != nil {
		f.Fatal(err)
	}
	tr.Run(context.Background(), RunOptions{StopAt: 150})
	if err := tr.SaveCheckpoint(seed); err != nil {
		f.Fatal(err)
	}
	data, _ := os.ReadFile(seed)
	f.Add(data)
	f.Add(data[:40])
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "ck.bin")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, _ = ResumeTrainer(cfg, p)
	})
}
