package formats

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
)

// Description is what a model or data file holds (`spikebridge inspect`):
// its format, the model it describes when it is a spikebridge model file,
// and every tensor with shape, dtype and statistics.
type Description struct {
	File   string `json:"file"`
	Format string `json:"format"` // spikebridge-model, safetensors, npz, npy, pytorch-zip, pytorch-legacy
	// Model is set for spikebridge model files.
	Model *DescribedModel `json:"model,omitempty"`
	// ModelError says why a file that claims to be a spikebridge model
	// does not load (its tensors are still listed).
	ModelError string            `json:"model_error,omitempty"`
	Metadata   map[string]string `json:"metadata,omitempty"`
	Tensors    []DescribedTensor `json:"tensors"`
	Scalars    []DescribedScalar `json:"scalars,omitempty"`
}

// DescribedModel is the network a spikebridge model file holds.
type DescribedModel struct {
	Kind         string      `json:"kind"`
	Version      int         `json:"version"`
	Architecture string      `json:"architecture"`
	MACs         int         `json:"macs"`
	Input        IOSpec      `json:"input"`
	Output       IOSpec      `json:"output"`
	Layers       []LayerMeta `json:"layers"`
	Provenance   Provenance  `json:"provenance"`
}

// DescribedTensor is one tensor or array of a file.
type DescribedTensor struct {
	Name          string   `json:"name"`
	Path          []string `json:"path,omitempty"`
	DType         string   `json:"dtype"`
	Shape         []int    `json:"shape"`
	Stride        []int    `json:"stride,omitempty"`
	StorageOffset *int     `json:"storage_offset,omitempty"`
	Numel         int      `json:"numel"`
	// Statistics over the finite values (absent when there are none);
	// NonFinite counts NaN and ±Inf values.
	Min       *float64 `json:"min,omitempty"`
	Max       *float64 `json:"max,omitempty"`
	Mean      *float64 `json:"mean,omitempty"`
	Std       *float64 `json:"std,omitempty"`
	NonFinite int      `json:"nonfinite,omitempty"`
}

// DescribedScalar is a non-tensor value of a PyTorch file.
type DescribedScalar struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// A DescribeError says that Describe could not open the file or does not
// read its kind; other errors come from the reader of the recognised format.
type DescribeError struct{ Err error }

func (e *DescribeError) Error() string { return e.Err.Error() }
func (e *DescribeError) Unwrap() error { return e.Err }

// Describe recognises the file by its first bytes (the extension only
// breaks the tie between a zip .npz and a zip .pt) and reads it.
func Describe(path string) (*Description, error) {
	head := make([]byte, 16)
	f, err := os.Open(path)
	if err != nil {
		return nil, &DescribeError{err}
	}
	n, _ := io.ReadFull(f, head)
	f.Close()
	head = head[:n]
	ext := strings.ToLower(filepath.Ext(path))
	d := &Description{File: path}
	switch {
	case bytes.HasPrefix(head, []byte("\x93NUMPY")):
		d.Format = "npy"
		a, err := ReadNPY(path)
		if err != nil {
			return nil, err
		}
		d.Tensors = append(d.Tensors, describeArray(a))
	case bytes.HasPrefix(head, []byte("PK")) && ext == ".npz":
		d.Format = "npz"
		arrays, err := LoadNPZ(path)
		if err != nil {
			return nil, err
		}
		for _, a := range arrays {
			d.Tensors = append(d.Tensors, describeArray(a))
		}
	case len(head) >= 9 && head[8] == '{':
		if err := d.describeSafetensors(path); err != nil {
			return nil, err
		}
	case ext == ".npz" || ext == ".npy":
		// Named as a numpy file but without its magic: say so, not that it
		// is no PyTorch file.
		what := "it is empty"
		if len(head) > 0 {
			what = fmt.Sprintf("it starts with % x", head[:min(len(head), 8)])
		}
		want := "a zip archive (PK)"
		if ext == ".npy" {
			want = `the .npy magic "\x93NUMPY"`
		}
		return nil, &DescribeError{fmt.Errorf("%s: not a valid %s file: %s, want %s", path, ext, what, want)}
	default:
		if err := d.describeTorch(path, ext); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// describeTorch reads a .pt file, or a Stable-Baselines3 zip (its policy.pth).
func (d *Description) describeTorch(path, ext string) error {
	tf, sb3, err := LoadTorchOrSB3(path)
	if err != nil {
		if ext != ".pt" && ext != ".pth" && ext != ".bin" && ext != ".ckpt" {
			return &DescribeError{fmt.Errorf("%s: not a file spikebridge reads (.safetensors, .pt, .npz, .npy): %w", path, err)}
		}
		return err
	}
	d.Format = "pytorch-" + tf.Format
	if sb3 != nil {
		d.Format = "stable-baselines3-zip (policy.pth)"
	}
	for _, t := range tf.Tensors {
		it := describeValues(t.Name, t.DType, t.Shape, t.Values)
		it.Path, it.Stride = t.Path, t.Stride
		offset := t.StorageOffset
		it.StorageOffset = &offset
		d.Tensors = append(d.Tensors, it)
	}
	for _, s := range tf.Scalars {
		d.Scalars = append(d.Scalars, DescribedScalar{Name: s.Name, Value: fmt.Sprint(s.Value)})
	}
	return nil
}

func (d *Description) describeSafetensors(path string) error {
	sf, err := LoadSafetensors(path)
	if err != nil {
		return err
	}
	d.Format = "safetensors"
	for _, t := range sf.Tensors {
		d.Tensors = append(d.Tensors, describeValues(t.Name, t.DType, t.Shape, t.Values))
	}
	if _, ours := sf.Metadata[ModelMetadataKey]; !ours {
		d.Metadata = sf.Metadata
		return nil
	}
	d.Format = "spikebridge-model"
	kind, kindErr := ModelKind(path)
	var model *DescribedModel
	switch {
	case kindErr == nil && kind == ModelKindRecurrent:
		model, err = describeRecurrent(path)
	case kindErr == nil && kind == ModelKindSNN:
		model, err = describeSNN(path)
	default:
		model, err = describeANN(path)
	}
	if err != nil {
		d.ModelError = err.Error()
		d.Metadata = sf.Metadata
		return nil
	}
	d.Model = model
	return nil
}

func describeANN(path string) (*DescribedModel, error) {
	net, meta, err := LoadModel(path)
	if err != nil {
		return nil, err
	}
	return &DescribedModel{Kind: meta.Kind, Version: meta.Version, Architecture: net.String(), MACs: net.MACs(),
		Input: meta.Input, Output: meta.Output, Layers: meta.Layers, Provenance: meta.Provenance}, nil
}

func describeSNN(path string) (*DescribedModel, error) {
	s, meta, err := LoadSNN(path)
	if err != nil {
		return nil, err
	}
	layers := make([]LayerMeta, len(meta.Layers))
	for i, l := range meta.Layers {
		layers[i] = l.LayerMeta
	}
	return &DescribedModel{Kind: meta.Kind, Version: meta.Version, Architecture: s.String(),
		Input: meta.Input, Output: meta.Output, Layers: layers, Provenance: meta.Provenance}, nil
}

// describeRecurrent gives a recurrent (e-prop) model's population as its
// architecture, with the provenance.
func describeRecurrent(path string) (*DescribedModel, error) {
	net, _, meta, err := LoadRecurrent(path)
	if err != nil {
		return nil, err
	}
	alif := 0
	for _, b := range net.Adaptation {
		if b != 0 {
			alif++
		}
	}
	return &DescribedModel{Kind: meta.Kind, Version: meta.Version,
		Architecture: fmt.Sprintf("%d-%d(%d LIF, %d ALIF, recurrent)-%d %s", net.Inputs, net.Neurons, net.Neurons-alif, alif, net.Outputs, net.Output),
		Input:        meta.Input, Output: meta.Output, Provenance: meta.Provenance}, nil
}

func describeArray(a *Array) DescribedTensor {
	return describeValues(a.Name, a.DType, a.Shape, a.Data)
}

// describeValues summarises values: min, max, mean and population std of
// the finite ones, and how many are not finite.
func describeValues(name, dtype string, shape []int, values []float64) DescribedTensor {
	t := DescribedTensor{Name: name, DType: dtype, Shape: shape, Numel: len(values)}
	if t.Shape == nil {
		t.Shape = []int{}
	}
	lo, hi, total, count := math.Inf(1), math.Inf(-1), 0.0, 0
	for _, v := range values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.NonFinite++
			continue
		}
		lo, hi, total, count = min(lo, v), max(hi, v), total+v, count+1
	}
	if count == 0 {
		return t
	}
	mean := total / float64(count)
	squares := 0.0
	for _, v := range values {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			squares += (v - mean) * (v - mean)
		}
	}
	std := math.Sqrt(squares / float64(count))
	t.Min, t.Max, t.Mean, t.Std = &lo, &hi, &mean, &std
	return t
}

// WriteText writes the description for people: the model, its layers and
// provenance, the metadata, then a table of the tensors.
func (d *Description) WriteText(out io.Writer) error {
	fmt.Fprintf(out, "%s: %s\n", d.File, d.Format)
	if err := d.Model.writeText(out); err != nil {
		return err
	}
	if d.ModelError != "" {
		fmt.Fprintf(out, "not a valid spikebridge model: %s\n", d.ModelError)
	}
	for _, k := range slices.Sorted(maps.Keys(d.Metadata)) {
		fmt.Fprintf(out, "metadata %s = %s\n", k, d.Metadata[k])
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nTENSOR\tDTYPE\tSHAPE\tSTRIDE\tMIN\tMAX\tMEAN\tSTD")
	for _, t := range d.Tensors {
		stride := "-"
		if t.Stride != nil {
			stride = fmt.Sprint(t.Stride)
		}
		stats := "-\t-\t-\t-"
		if t.Min != nil {
			stats = fmt.Sprintf("%.6g\t%.6g\t%.6g\t%.6g", *t.Min, *t.Max, *t.Mean, *t.Std)
		}
		if t.NonFinite > 0 {
			stats += fmt.Sprintf("\t(%d non-finite)", t.NonFinite)
		}
		fmt.Fprintf(tw, "%s\t%s\t%v\t%s\t%s\n", t.Name, t.DType, t.Shape, stride, stats)
	}
	for _, s := range d.Scalars {
		fmt.Fprintf(tw, "%s\tscalar\t%s\n", s.Name, s.Value)
	}
	return tw.Flush()
}

func (m *DescribedModel) writeText(out io.Writer) error {
	if m == nil {
		return nil
	}
	fmt.Fprintf(out, "model: %s %s, %d MACs per sample, format version %d\n", m.Kind, m.Architecture, m.MACs, m.Version)
	fmt.Fprintf(out, "input:  %d %s %s\n", m.Input.Size, m.Input.Meaning, strings.Join(m.Input.Names, ", "))
	fmt.Fprintf(out, "output: %d %s %s\n", m.Output.Size, m.Output.Meaning, strings.Join(m.Output.Names, ", "))
	if p := m.Provenance; p.Source != "" || p.Tool != "" || p.Command != "" {
		fmt.Fprintf(out, "provenance: source %q, tool %q, command %q\n", p.Source, p.Tool, p.Command)
		for _, k := range slices.Sorted(maps.Keys(p.Settings)) {
			fmt.Fprintf(out, "  %s = %s\n", k, p.Settings[k])
		}
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nLAYER\tKIND\tIN\tOUT\tWEIGHTS\tBIAS")
	for _, l := range m.Layers {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\n", l.Name, l.Kind, l.In, l.Out, orDash(l.Weights), orDash(l.Bias))
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
