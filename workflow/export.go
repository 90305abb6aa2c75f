package workflow

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spikebridge/spikebridge/export"
	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/formats/nir"
)

// ExportOptions exports the spiking model file Model to To ("nir",
// "brian2" or "pynn").
type ExportOptions struct {
	Model, To string
	// Output is the file to write; "" is Model's name with the target's
	// extension (.nir, _brian2.py, _pynn.py).
	Output string
	DT     float64 // nir: the step length in seconds
	Batch  int     // scripts: rows simulated at once (0: the target's default)
	// Version is the exporting tool's version, written into the files.
	Version string
}

// ExportResult is what an export wrote and how faithful it is.
type ExportResult struct {
	Target   string          `json:"target"`
	Model    string          `json:"model"`
	Output   string          `json:"output"`
	Weights  string          `json:"weights,omitempty"`
	Fidelity string          `json:"fidelity"`
	Grades   []nir.NodeGrade `json:"grades"`
}

// SameFileError refuses an output that is the input file.
type SameFileError struct{ Output, Input string }

func (e *SameFileError) Error() string {
	return fmt.Sprintf("output %s is the input file %s", e.Output, e.Input)
}

// RefuseOverInput refuses (SameFileError) an output path that is the
// input file.
func RefuseOverInput(out, in string) error {
	so, err := os.Stat(out)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	si, err2 := os.Stat(in)
	if err == nil && err2 == nil && os.SameFile(so, si) {
		return &SameFileError{out, in}
	}
	return nil
}

// Export writes a NIR graph or a simulator script (and its weights .npz)
// of a spiking model file and grades every node or layer.
func Export(o ExportOptions) (ExportResult, error) {
	switch {
	case o.To != "nir" && o.To != "brian2" && o.To != "pynn":
		return ExportResult{}, invalidf("{To} %q: want nir, brian2 or pynn", o.To)
	case !(o.DT > 0) || math.IsInf(o.DT, 0):
		return ExportResult{}, invalidf("{DT} %v: want a step length in seconds > 0", o.DT)
	case o.Batch < 0:
		return ExportResult{}, invalidf("{Batch} %d: want 0 (the target's default) or more", o.Batch)
	}
	kind, err := formats.ModelKind(o.Model)
	if err != nil {
		return ExportResult{}, err
	}
	if kind == formats.ModelKindRecurrent && o.To != "nir" {
		return ExportResult{}, &OptionError{Msg: fmt.Sprintf("%s: recurrent networks are exported to NIR only ({To} nir), not yet as %s scripts", o.Model, o.To)}
	}
	if kind != formats.ModelKindSNN && kind != formats.ModelKindRecurrent {
		return ExportResult{}, fmt.Errorf("%s: a %q model; export takes spiking models (convert it first: spikebridge convert)", o.Model, kind)
	}
	ext := ".nir"
	if o.To != "nir" {
		ext = "_" + o.To + ".py"
	}
	out := o.Output
	if out == "" {
		out = strings.TrimSuffix(o.Model, filepath.Ext(o.Model)) + ext
	}
	if err := RefuseOverInput(out, o.Model); err != nil {
		return ExportResult{}, err
	}
	res := ExportResult{Target: o.To, Model: o.Model, Output: out}
	nirOpts := nir.ExportOptions{DT: o.DT, Source: filepath.Base(o.Model), Tool: "spikebridge " + o.Version}
	if kind == formats.ModelKindRecurrent {
		rnet, _, _, err := formats.LoadRecurrent(o.Model)
		if err != nil {
			return res, err
		}
		g, grades, err := nir.FromRecurrent(rnet, nirOpts)
		return res, writeGraph(&res, g, grades, err)
	}
	net, _, err := formats.LoadSNN(o.Model)
	if err != nil {
		return res, err
	}
	if o.To == "nir" {
		g, grades, err := nir.FromSNN(net, nirOpts)
		return res, writeGraph(&res, g, grades, err)
	}
	eo := export.Options{Source: filepath.Base(o.Model), Version: o.Version, Batch: o.Batch}
	var s *export.Script
	if o.To == "brian2" {
		s, err = export.Brian2Script(net, eo)
	} else {
		s, err = export.PyNNScript(net, eo)
	}
	if err != nil {
		return res, err
	}
	return res, writeScript(&res, s)
}

// writeGraph writes an exported graph to res.Output and notes its grades.
func writeGraph(res *ExportResult, g *nir.Graph, grades []nir.NodeGrade, err error) error {
	if err != nil {
		return err
	}
	if err := g.WriteFile(res.Output); err != nil {
		return err
	}
	res.Grades, res.Fidelity = grades, string(nir.Worst(grades))
	return nil
}

// writeScript writes a script to res.Output and its weights beside it
// (.npz), and notes its grades.
func writeScript(res *ExportResult, s *export.Script) error {
	res.Weights = strings.TrimSuffix(res.Output, filepath.Ext(res.Output)) + ".npz"
	if err := RefuseOverInput(res.Weights, res.Model); err != nil {
		return err
	}
	if err := writeBytesAtomic(res.Weights, s.Weights); err != nil {
		return err
	}
	if err := writeBytesAtomic(res.Output, s.Python); err != nil {
		return err
	}
	for _, g := range s.Grades {
		typ := "layer"
		if g.Layer == "input" {
			typ = "input"
		}
		res.Grades = append(res.Grades, nir.NodeGrade{Node: g.Layer, Type: typ, Grade: nir.Grade(g.Grade), Note: g.Note})
	}
	res.Fidelity = s.Fidelity()
	return nil
}

// WriteText writes the result for people: the files, the fidelity and the
// grades.
func (res ExportResult) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "wrote %s", res.Output)
	if res.Weights != "" {
		fmt.Fprintf(w, " and %s", res.Weights)
	}
	fmt.Fprintf(w, " (%s, fidelity %s)\n", res.Target, res.Fidelity)
	return WriteGrades(w, res.Grades)
}

// WriteGrades writes a table of the nodes' grades.
func WriteGrades(w io.Writer, grades []nir.NodeGrade) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "node\ttype\tgrade\tnote")
	for _, g := range grades {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", g.Node, g.Type, g.Grade, g.Note)
	}
	return tw.Flush()
}
