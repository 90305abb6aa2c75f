package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/spikebridge/spikebridge/formats"
)

// InspectOptions holds the flags of `spikebridge inspect`.
type InspectOptions struct {
	IO   *IOStreams
	Path string
	JSON bool
}

// NewCmdInspect parses flags into InspectOptions; runF replaces runInspect in tests.
func NewCmdInspect(ios *IOStreams, runF func(*InspectOptions) error) *cobra.Command {
	opts := &InspectOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "inspect FILE",
		Short: "List the tensors of a model or data file (.safetensors, .pt, .npz, .npy) with shapes, dtypes and statistics",
		Example: `  spikebridge inspect model.safetensors
  spikebridge inspect policy.pt --json
  spikebridge inspect states.npz`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Path = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runInspect(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print one JSON document")
	return cmd
}

// inspectReport is the --json document.
type inspectReport struct {
	File   string `json:"file"`
	Format string `json:"format"` // spikebridge-model, safetensors, npz, npy, pytorch-zip, pytorch-legacy
	// Model is set for spikebridge model files.
	Model *inspectModel `json:"model,omitempty"`
	// ModelError says why a file that claims to be a spikebridge model
	// does not load (its tensors are still listed).
	ModelError string            `json:"model_error,omitempty"`
	Metadata   map[string]string `json:"metadata,omitempty"`
	Tensors    []inspectTensor   `json:"tensors"`
	Scalars    []inspectScalar   `json:"scalars,omitempty"`
}

type inspectModel struct {
	Kind         string              `json:"kind"`
	Version      int                 `json:"version"`
	Architecture string              `json:"architecture"`
	MACs         int                 `json:"macs"`
	Input        formats.IOSpec      `json:"input"`
	Output       formats.IOSpec      `json:"output"`
	Layers       []formats.LayerMeta `json:"layers"`
	Provenance   formats.Provenance  `json:"provenance"`
}

type inspectTensor struct {
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

type inspectScalar struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

func runInspect(opts *InspectOptions) error {
	report, err := inspectFile(opts.Path)
	if err != nil {
		return err
	}
	if opts.JSON {
		return json.NewEncoder(opts.IO.Out).Encode(report)
	}
	return writeInspectText(opts.IO.Out, report)
}

// inspectFile recognises the file by its first bytes (the extension only
// breaks the tie between a zip .npz and a zip .pt) and reads it.
func inspectFile(path string) (*inspectReport, error) {
	head := make([]byte, 16)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("inspect: %w", err)
	}
	n, _ := io.ReadFull(f, head)
	f.Close()
	head = head[:n]
	ext := strings.ToLower(filepath.Ext(path))
	report := &inspectReport{File: path}
	switch {
	case bytes.HasPrefix(head, []byte("\x93NUMPY")):
		report.Format = "npy"
		a, err := formats.ReadNPY(path)
		if err != nil {
			return nil, err
		}
		report.Tensors = append(report.Tensors, arrayTensor(a))
	case bytes.HasPrefix(head, []byte("PK")) && ext == ".npz":
		report.Format = "npz"
		arrays, err := formats.LoadNPZ(path)
		if err != nil {
			return nil, err
		}
		for _, a := range arrays {
			report.Tensors = append(report.Tensors, arrayTensor(a))
		}
	case len(head) >= 9 && head[8] == '{':
		if err := inspectSafetensors(path, report); err != nil {
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
		return nil, fmt.Errorf("inspect: %s: not a valid %s file: %s, want %s", path, ext, what, want)
	default:
		// A .pt file, or a Stable-Baselines3 zip (its policy.pth).
		tf, sb3, err := formats.LoadTorchOrSB3(path)
		if err != nil {
			if ext != ".pt" && ext != ".pth" && ext != ".bin" && ext != ".ckpt" {
				return nil, fmt.Errorf("inspect: %s: not a file spikebridge reads (.safetensors, .pt, .npz, .npy): %w", path, err)
			}
			return nil, err
		}
		report.Format = "pytorch-" + tf.Format
		if sb3 != nil {
			report.Format = "stable-baselines3-zip (policy.pth)"
		}
		for _, t := range tf.Tensors {
			it := statsTensor(t.Name, t.DType, t.Shape, t.Values)
			it.Path, it.Stride = t.Path, t.Stride
			offset := t.StorageOffset
			it.StorageOffset = &offset
			report.Tensors = append(report.Tensors, it)
		}
		for _, s := range tf.Scalars {
			report.Scalars = append(report.Scalars, inspectScalar{Name: s.Name, Value: fmt.Sprint(s.Value)})
		}
	}
	return report, nil
}

func inspectSafetensors(path string, report *inspectReport) error {
	sf, err := formats.LoadSafetensors(path)
	if err != nil {
		return err
	}
	report.Format = "safetensors"
	for _, t := range sf.Tensors {
		report.Tensors = append(report.Tensors, statsTensor(t.Name, t.DType, t.Shape, t.Values))
	}
	if _, ours := sf.Metadata[formats.ModelMetadataKey]; !ours {
		report.Metadata = sf.Metadata
		return nil
	}
	report.Format = "spikebridge-model"
	if kind, err := formats.ModelKind(path); err == nil && kind == formats.ModelKindRecurrent {
		return inspectRecurrent(path, sf.Metadata, report)
	}
	if kind, err := formats.ModelKind(path); err == nil && kind == "snn" {
		s, meta, err := formats.LoadSNN(path)
		if err != nil {
			report.ModelError = err.Error()
			report.Metadata = sf.Metadata
			return nil
		}
		layers := make([]formats.LayerMeta, len(meta.Layers))
		for i, l := range meta.Layers {
			layers[i] = l.LayerMeta
		}
		report.Model = &inspectModel{Kind: meta.Kind, Version: meta.Version, Architecture: s.String(),
			Input: meta.Input, Output: meta.Output, Layers: layers, Provenance: meta.Provenance}
		return nil
	}
	net, meta, err := formats.LoadModel(path)
	if err != nil {
		report.ModelError = err.Error()
		report.Metadata = sf.Metadata
		return nil
	}
	report.Model = &inspectModel{
		Kind: meta.Kind, Version: meta.Version, Architecture: net.String(), MACs: net.MACs(),
		Input: meta.Input, Output: meta.Output, Layers: meta.Layers, Provenance: meta.Provenance,
	}
	return nil
}

func arrayTensor(a *formats.Array) inspectTensor {
	return statsTensor(a.Name, a.DType, a.Shape, a.Data)
}

// statsTensor summarises values: min, max, mean and population std of the
// finite ones, and how many are not finite.
func statsTensor(name, dtype string, shape []int, values []float64) inspectTensor {
	t := inspectTensor{Name: name, DType: dtype, Shape: shape, Numel: len(values)}
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

func writeInspectText(out io.Writer, r *inspectReport) error {
	fmt.Fprintf(out, "%s: %s\n", r.File, r.Format)
	if m := r.Model; m != nil {
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
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\n", l.Name, l.Kind, l.In, l.Out, dash(l.Weights), dash(l.Bias))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if r.ModelError != "" {
		fmt.Fprintf(out, "not a valid spikebridge model: %s\n", r.ModelError)
	}
	for _, k := range slices.Sorted(maps.Keys(r.Metadata)) {
		fmt.Fprintf(out, "metadata %s = %s\n", k, r.Metadata[k])
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nTENSOR\tDTYPE\tSHAPE\tSTRIDE\tMIN\tMAX\tMEAN\tSTD")
	for _, t := range r.Tensors {
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
	for _, s := range r.Scalars {
		fmt.Fprintf(tw, "%s\tscalar\t%s\n", s.Name, s.Value)
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
