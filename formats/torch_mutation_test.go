package formats

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestImportMutatedFiles runs the torch/SB3 reader and every import mode on
// byte mutations of the import fixtures (a seeded stand-in for fuzzing that
// CI can afford): no panic, and no input may take more than 2 s.
func TestImportMutatedFiles(t *testing.T) {
	var files []string
	for _, sub := range []string{"imports", "spiking"} {
		files = append(files, torchFixtureFiles(t, sub)...)
	}
	for _, pattern := range []string{filepath.Join(torchFixtures(t, "imports"), "sb3", "*.zip"),
		filepath.Join("testdata", "imports", "*.pt"), filepath.Join("testdata", "imports", "*.zip"), filepath.Join("testdata", "dsqn", "*.pt")} {
		more, _ := filepath.Glob(pattern)
		files = append(files, more...)
	}
	rng := rand.New(rand.NewPCG(22, 20))
	for _, path := range files {
		orig, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for k := 0; k < 40; k++ {
			data := append([]byte(nil), orig...)
			for m := 0; m <= rng.IntN(4); m++ {
				data[rng.IntN(len(data))] = byte(rng.IntN(256))
			}
			start := time.Now()
			tf, sb3, err := ReadTorchOrSB3(bytes.NewReader(data), int64(len(data)), "mutated.pt")
			if err == nil {
				opts := ImportOptions{ObservationSize: 4}
				if sb3 != nil {
					sb3.ApplyTo(&opts)
				}
				for _, o := range []ImportOptions{opts, {Semantics: SemanticsDSQN}, {Head: "critic"}, {Arch: "4-64-2:tanh"}} {
					_, _ = TorchToNetwork(tf, o)
				}
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("%s, mutation %d: %v", filepath.Base(path), k, d)
			}
		}
	}
}
