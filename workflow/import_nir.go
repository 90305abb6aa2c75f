package workflow

import (
	"fmt"
	"io"
	"math"
	"path/filepath"

	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/formats/nir"
)

// ImportNIROptions imports the NIR file Input as the spiking model file
// Output with step DT and Timesteps per decision (0: the file's metadata).
type ImportNIROptions struct {
	Input, Output string
	DT            float64
	Timesteps     int
}

// ImportNIRResult describes the written model and grades every node
// (`import nir --json`; fields in alphabetical order, as the document has
// always had them).
type ImportNIRResult struct {
	Grades     []nir.NodeGrade `json:"grades"`
	Input      string          `json:"input"`
	Inputs     int             `json:"inputs"`
	Layers     int             `json:"layers"`
	NIRVersion string          `json:"nir_version"`
	Output     string          `json:"output"`
	Outputs    int             `json:"outputs"`
	Timesteps  int             `json:"timesteps"`
}

// WriteText writes the result for people: the model and the grades.
func (r ImportNIRResult) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "wrote %s: %d -> %d, %d layers, T = %d (NIR %s)\n", r.Output, r.Inputs, r.Outputs, r.Layers, r.Timesteps, r.NIRVersion)
	return WriteGrades(w, r.Grades)
}

// ImportNIR reads a NIR graph, maps it onto a layered spiking network and
// saves it. A graph that does not map gives an error naming the input
// (wrapping nir.ToSNN's) and the grades read so far.
func ImportNIR(o ImportNIROptions) (ImportNIRResult, error) {
	res := ImportNIRResult{Input: o.Input, Output: o.Output}
	if o.DT < 0 || math.IsNaN(o.DT) || math.IsInf(o.DT, 0) {
		return res, invalidf("{DT} %v: want a step length in seconds > 0", o.DT)
	}
	if o.Timesteps < 0 {
		return res, invalidf("{Timesteps} %d: want >= 0", o.Timesteps)
	}
	if err := RefuseOverInput(o.Output, o.Input); err != nil {
		return res, err
	}
	g, err := nir.ReadFile(o.Input)
	if err != nil {
		return res, err
	}
	net, grades, err := nir.ToSNN(g, nir.ImportOptions{DT: o.DT, Timesteps: o.Timesteps})
	res.Grades = grades
	if err != nil {
		return res, fmt.Errorf("%s: %w", o.Input, err)
	}
	settings := map[string]string{"nir_version": g.Version}
	if o.DT > 0 {
		settings["dt"] = fmt.Sprint(o.DT)
	} else {
		settings["dt"] = g.Metadata["dt"]
	}
	meta := formats.SNNMeta{
		Input:      formats.IOSpec{Meaning: "NIR Input node (a current per step)"},
		Output:     formats.IOSpec{Meaning: "NIR Output node"},
		Provenance: formats.Provenance{Source: filepath.Base(o.Input), Tool: "spikebridge import nir", Settings: settings},
	}
	if err := formats.SaveSNN(o.Output, net, meta); err != nil {
		return res, err
	}
	res.NIRVersion, res.Layers, res.Inputs, res.Outputs, res.Timesteps = g.Version, len(net.Layers), net.InputSize(), net.OutputSize(), net.Timesteps
	return res, nil
}
