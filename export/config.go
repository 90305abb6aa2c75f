package export

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/snn"
)

// Target is a script target.
type Target string

// Script targets.
const (
	Brian2 Target = "brian2"
	PyNN   Target = "pynn"
)

// Grade values, as in formats/nir.
const (
	Faithful    = "faithful"
	Approximate = "approximate"
	Unsupported = "unsupported"
)

// LayerGrade grades one part of the exported network.
type LayerGrade struct {
	Layer string `json:"layer"`
	Grade string `json:"grade"`
	Note  string `json:"note,omitempty"`
}

// Options describe the script being written.
type Options struct {
	Source  string // the model file
	Version string // spikebridge version
	// Batch is how many rows the script simulates at once (as disjoint
	// copies of the network); 0 means 250 for Brian2 and 10 for PyNN
	// (PyNN sets up connections post-synaptic neuron by neuron).
	Batch int
}

// Script is an exported simulation: the Python program, the weights file it
// loads (OUT.npz beside OUT.py) and the grades.
type Script struct {
	Python  []byte
	Weights []byte
	Grades  []LayerGrade
}

// Fidelity is the lowest grade of the script.
func (s *Script) Fidelity() string { return worst(s.Grades) }

func worst(grades []LayerGrade) string {
	w := Faithful
	for _, g := range grades {
		if g.Grade == Unsupported {
			return Unsupported
		}
		if g.Grade == Approximate {
			w = Approximate
		}
	}
	return w
}

type layerConfig struct {
	Name       string  `json:"name"`
	Key        string  `json:"key"` // spike_counts_<key> in the result
	In         int     `json:"in"`
	Out        int     `json:"out"`
	Integrator bool    `json:"integrator"`
	Leak       float64 `json:"leak"`
	Reset      string  `json:"reset"`
	Strict     bool    `json:"strict"`
}

type config struct {
	Target               string        `json:"target"`
	Source               string        `json:"source"`
	Version              string        `json:"spikebridge_version"`
	Fidelity             string        `json:"fidelity"`
	Grades               []LayerGrade  `json:"grades"`
	Timesteps            int           `json:"timesteps"`
	Propagation          string        `json:"propagation"`
	Readout              string        `json:"readout"`
	OutputScale          float64       `json:"output_scale"`
	Encoding             string        `json:"encoding"`
	Gain                 float64       `json:"gain"`
	InputThreshold       float64       `json:"input_threshold"`
	InputInitialMembrane float64       `json:"input_initial_membrane"`
	InputSize            int           `json:"input_size"`
	Batch                int           `json:"batch"`
	Layers               []layerConfig `json:"layers"`
}

var nonWord = regexp.MustCompile(`[^A-Za-z0-9_]`)

// describe builds the script's configuration and weight arrays; the
// target-specific grades are added by the caller.
func describe(net *snn.Network, target Target, opts Options) (*config, []*formats.Array, error) {
	if net == nil || len(net.Layers) == 0 {
		return nil, nil, fmt.Errorf("export: no network")
	}
	if net.Timesteps <= 0 {
		return nil, nil, fmt.Errorf("export: the network stores no timesteps per decision (T = %d)", net.Timesteps)
	}
	if net.Input.Encoding == snn.Poisson {
		return nil, nil, fmt.Errorf("export: Poisson input encoding draws from spikebridge's PCG stream; %s scripts cannot reproduce it (unsupported)", target)
	}
	batch := opts.Batch
	if batch <= 0 {
		batch = 250
		if target == PyNN {
			batch = 10
		}
	}
	c := &config{Target: string(target), Source: opts.Source, Version: opts.Version, Timesteps: net.Timesteps,
		Propagation: string(net.Propagation), Readout: string(net.Readout), OutputScale: float64(net.OutputScale),
		Encoding: string(net.Input.Encoding), Gain: float64(net.Input.Gain), InputThreshold: float64(net.Input.Threshold),
		InputInitialMembrane: float64(net.Input.InitialMembrane), InputSize: net.InputSize(), Batch: batch}
	var arrays []*formats.Array
	last := len(net.Layers) - 1
	keys := map[string]bool{}
	for i, l := range net.Layers {
		name := l.Name
		if name == "" {
			name = fmt.Sprintf("layer%d", i)
		}
		key := nonWord.ReplaceAllString(name, "_")
		for keys[key] {
			key += "_"
		}
		keys[key] = true
		reset := string(l.Reset)
		if reset == "" {
			reset = string(snn.ResetSubtract)
		}
		lc := layerConfig{Name: name, Key: key, In: l.In, Out: l.Out, Leak: float64(l.Leak), Reset: reset,
			Strict: l.StrictThreshold, Integrator: i == last && net.Readout == snn.Membrane}
		if lc.Integrator {
			lc.Leak, lc.Reset, lc.Strict = 1, "", false
		}
		c.Layers = append(c.Layers, lc)
		bias := l.Bias
		if bias == nil {
			bias = make([]float32, l.Out)
		}
		th := make([]float32, l.Out)
		v0 := make([]float64, l.Out)
		for o := range th {
			th[o] = l.Threshold
			if l.Thresholds != nil {
				th[o] = l.Thresholds[o]
			}
			// snn's v(0), computed as it does (exact in float64).
			v0[o] = float64(l.InitialMembrane) * float64(th[o])
			if l.InitialMembranes != nil {
				v0[o] = float64(l.InitialMembranes[o])
			}
			if lc.Integrator {
				v0[o] = 0
			}
		}
		p := fmt.Sprintf("layer%d_", i)
		arrays = append(arrays,
			formats.NewFloat32Array(p+"weight", []int{l.Out, l.In}, l.Weights),
			formats.NewFloat32Array(p+"bias", []int{l.Out}, bias),
			formats.NewFloat32Array(p+"threshold", []int{l.Out}, th),
			formats.NewFloat64Array(p+"v0", []int{l.Out}, v0))
	}
	return c, arrays, nil
}

// render fills the script template and encodes the weights.
func render(template string, c *config, arrays []*formats.Array) (*Script, error) {
	c.Fidelity = worst(c.Grades)
	doc, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, err
	}
	var header strings.Builder
	fmt.Fprintf(&header, "# Generated by spikebridge %s from %s.\n", c.Version, c.Source)
	fmt.Fprintf(&header, "# Fidelity: %s (target %s).\n", c.Fidelity, c.Target)
	for _, g := range c.Grades {
		fmt.Fprintf(&header, "#   %s: %s", g.Layer, g.Grade)
		if g.Note != "" {
			fmt.Fprintf(&header, " (%s)", g.Note)
		}
		header.WriteString("\n")
	}
	if strings.Contains(string(doc), "'''") {
		return nil, fmt.Errorf("export: the configuration contains ''' and cannot be embedded")
	}
	py := strings.Replace(template, "@HEADER@", header.String(), 1)
	py = strings.Replace(py, "@CONFIG@", string(doc), 1)
	var w bytes.Buffer
	if err := formats.EncodeNPZ(&w, arrays); err != nil {
		return nil, err
	}
	return &Script{Python: []byte(py), Weights: w.Bytes(), Grades: c.Grades}, nil
}
