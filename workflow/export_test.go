package workflow

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/model"
)

// Export takes spiking models only and never writes over its input.
func TestExportRefusals(t *testing.T) {
	dir := t.TempDir()
	ann := filepath.Join(dir, "ann.safetensors")
	net, err := model.New([]model.Layer{model.NewDense("fc1", 2, 1, []float32{1, -1}, []float32{0.5})})
	if err != nil {
		t.Fatal(err)
	}
	if err := formats.SaveModel(ann, net, formats.ModelMeta{}); err != nil {
		t.Fatal(err)
	}
	if _, err := Export(ExportOptions{Model: ann, To: "nir", DT: 1e-3}); err == nil || err.Error() != ann+`: a "ann" model; export takes spiking models (convert it first: spikebridge convert)` {
		t.Errorf("export of an ANN: %v", err)
	}
	var oe *OptionError
	if _, err := Export(ExportOptions{Model: ann, To: "nest", DT: 1e-3}); !errors.As(err, &oe) || !oe.Invalid {
		t.Errorf("export to an unknown target: %v", err)
	}
	var same *SameFileError
	if err := RefuseOverInput(ann, ann); !errors.As(err, &same) || same.Output != ann {
		t.Errorf("output over the input: %v", err)
	}
	if err := RefuseOverInput(filepath.Join(dir, "new.nir"), ann); err != nil {
		t.Errorf("a new output: %v", err)
	}
	if _, err := ImportNIR(ImportNIROptions{Input: ann, Output: ann}); !errors.As(err, &same) {
		t.Errorf("import over its input: %v", err)
	}
}
