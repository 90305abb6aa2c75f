package formats

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spikebridge/spikebridge/model"
)

// importFixtureFiles lists the network files under fixtures/imports (and its
// sb3/ zips) that have an _expected.npz beside them.
func importFixtureFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	root := torchFixtures(t, "imports")
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		ext := filepath.Ext(path)
		if ext != ".pt" && ext != ".zip" && ext != ".pth" {
			return nil
		}
		if _, err := os.Stat(strings.TrimSuffix(path, ext) + "_expected.npz"); err == nil {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no network with an _expected.npz under %s", root)
	}
	return files
}

// importWithFileDefaults is what `import pytorch` does without flags: an
// SB3 zip's activation and action count come from its data member.
func importWithFileDefaults(path string) (*TorchImport, *SB3Model, error) {
	tf, sb3, err := LoadTorchOrSB3(path)
	if err != nil {
		return nil, nil, err
	}
	opts := ImportOptions{}
	if sb3 != nil {
		opts.Activation, opts.ActivationWhy, opts.Actions = sb3.Activation, sb3.ActivationWhy, sb3.Actions
	}
	imp, err := TorchToNetwork(tf, opts)
	return imp, sb3, err
}

// TestImportFixturesMatchTorch imports every file of fixtures/imports with
// no options and checks the network's outputs on the fixture's states
// against PyTorch's `out`: within 1e-5 on every value, the same argmax on
// every state (issue 22). 1e-5 because Tanh/Sigmoid/ELU are correctly rounded
// here and within an ulp in PyTorch's vectorised float32 kernels, and a
// dueling network's folded last layer rounds once where PyTorch rounds three
// times; plain ReLU chains are bit-exact.
func TestImportFixturesMatchTorch(t *testing.T) {
	for _, path := range importFixtureFiles(t) {
		name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
		t.Run(name, func(t *testing.T) {
			imp, _, err := importWithFileDefaults(path)
			if err != nil {
				t.Fatal(err)
			}
			exp, err := ReadNPZ(strings.TrimSuffix(path, filepath.Ext(path)) + "_expected.npz")
			if err != nil {
				t.Fatal(err)
			}
			states, want := exp["states"].Float32s(), exp["out"].Float32s()
			rows, cols, err := exp["states"].Matrix()
			if err != nil {
				t.Fatal(err)
			}
			net := imp.Network
			if net.InputSize() != cols || net.OutputSize()*rows != len(want) {
				t.Fatalf("imported %s, fixture has %d inputs and %d outputs per state", net, cols, len(want)/rows)
			}
			got := make([]float32, len(want))
			net.ForwardBatch(got, states, rows, net.NewWorkspace(rows))
			outs := net.OutputSize()
			maxErr, flips, exact := 0.0, 0, 0
			for i := 0; i < rows; i++ {
				for o := 0; o < outs; o++ {
					d := math.Abs(float64(got[i*outs+o]) - float64(want[i*outs+o]))
					maxErr = max(maxErr, d)
					if d == 0 {
						exact++
					}
				}
				if model.Argmax(got[i*outs:(i+1)*outs]) != int(exp["actions"].Data[i]) {
					flips++
				}
			}
			t.Logf("%s (%s): max |out - torch| = %.3g, %d of %d values bit-exact, %d action flips; notes: %s",
				net, imp.Structure, maxErr, exact, len(want), flips, strings.Join(imp.Notes, " | "))
			if maxErr > 1e-5 || flips > 0 {
				t.Errorf("max |out - torch| = %.3g (want <= 1e-5), %d action flips (want 0)", maxErr, flips)
			}
		})
	}
}
