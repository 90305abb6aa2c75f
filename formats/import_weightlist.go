package formats

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ErrAmbiguousLayout is returned (wrapped) when a weight list's shapes
// chain both as (in, out) and as (out, in) weights (square layers), so
// ImportOptions.Layout has to choose.
var ErrAmbiguousLayout = errors.New("the weight layout has to be chosen")

// weightListWhy is the note on a weight list's assumed activation.
const weightListWhy = "assumed: a weight list does not store activations"

// isWeightList reports whether the tensors come from a bare list of weights
// or a (weights, biases) pair of lists, as the DSQN code saves them.
func isWeightList(tensors []*Tensor) bool {
	for _, t := range tensors {
		for _, p := range t.Path {
			if _, err := strconv.Atoi(p); err != nil {
				return false
			}
		}
		switch {
		case len(t.Path) == 1 && len(t.Shape) == 2:
		case len(t.Path) == 2 && t.Path[0] == "0" && len(t.Shape) == 2:
		case len(t.Path) == 2 && t.Path[0] == "1" && len(t.Shape) == 1:
		default:
			return false
		}
	}
	return true
}

// parameterList recognises the state_dict of an nn.ParameterList of 2-d
// weights ("weights.0", "weights.1", ...; one prefix, indices 0..n-1 in
// order) and returns the tensors as a weight list (Path = [index]).
func parameterList(tensors []*Tensor) ([]*Tensor, bool) {
	if len(tensors) < 2 {
		return nil, false
	}
	var out []*Tensor
	prefix := ""
	for i, t := range tensors {
		p, idx, found := cutLastDot(t.Name, ".")
		if !found || idx != strconv.Itoa(i) || len(t.Shape) != 2 || !isTorchFloat(t.DType) || (i > 0 && p != prefix) {
			return nil, false
		}
		prefix = p
		c := *t
		c.Path = []string{idx}
		out = append(out, &c)
	}
	return out, true
}

func weightListLayers(tensors []*Tensor, layout string, arch *archSpec, unmapped map[*Tensor]string) ([]linearCandidate, string, error) {
	var layers []linearCandidate
	biases := map[string]*Tensor{}
	for _, t := range tensors {
		if len(t.Path) == 2 && t.Path[0] == "1" {
			biases[t.Path[1]] = t
		}
	}
	for _, t := range tensors {
		if len(t.Shape) == 2 {
			c := linearCandidate{weight: t, id: t.Path[len(t.Path)-1]}
			if len(t.Path) == 2 {
				c.bias = biases[c.id]
				delete(biases, c.id)
			}
			layers = append(layers, c)
		}
	}
	for _, b := range biases {
		unmapped[b] = "bias without a weight of the same index"
	}
	if layout == "" {
		fits := func(l string) bool {
			sizes, ok := chainSizes(layers, l)
			return ok && (arch == nil || slices.Equal(sizes, arch.sizes))
		}
		inOut, outIn := fits(LayoutInOut), fits(LayoutOutIn)
		switch {
		case inOut && !outIn:
			layout = LayoutInOut
		case outIn && !inOut:
			layout = LayoutOutIn
		case inOut && outIn:
			return nil, "", fmt.Errorf("formats: weight list %s: both layouts fit the shapes, %s (in, out) and %s (out, in): %w",
				weightShapeList(layers), LayoutInOut, LayoutOutIn, ErrAmbiguousLayout)
		default:
			return nil, "", fmt.Errorf("formats: weight list %s: the shapes do not chain as (in, out) nor as (out, in) weights%s",
				weightShapeList(layers), archHint(arch))
		}
	}
	if _, ok := chainSizes(layers, layout); !ok {
		return nil, "", fmt.Errorf("formats: weight list %s: the shapes do not chain as %s weights", weightShapeList(layers), layout)
	}
	return layers, layout, nil
}

// refuseDSQNLike returns ErrProbablyDSQN for a bias-free weight list whose
// first layer takes one input more than the environment's observation.
func refuseDSQNLike(layers []linearCandidate, layout string, obs int) error {
	for _, l := range layers {
		if l.bias != nil {
			return nil
		}
	}
	sizes, _ := chainSizes(layers, layout)
	if len(sizes) == 0 || sizes[0] != obs+1 {
		return nil
	}
	return fmt.Errorf("formats: weight list %s (%s, %s weights) has no biases and %d inputs, one more than the %d observations: %w "+
		"(the DSQN code appends a constant 1 to the observation instead of biases and runs IF neurons); "+
		"import it with DSQN semantics, or as an ANN if it is one",
		weightShapeList(layers), importArchString(sizes), layout, sizes[0], obs, ErrProbablyDSQN)
}

func archHint(arch *archSpec) string {
	if arch == nil {
		return ""
	}
	return " of arch " + importArchString(arch.sizes)
}

func weightShapeList(layers []linearCandidate) string {
	parts := make([]string, len(layers))
	for i, l := range layers {
		parts[i] = fmt.Sprintf("%s %v", l.weight.Name, l.weight.Shape)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// planWeightList imports a bare list of weights or a (weights, biases)
// pair of lists, as the DSQN code saves them, with def between the layers.
func planWeightList(tensors []*Tensor, opts ImportOptions, arch *archSpec, unmapped map[*Tensor]string, def actSpec) (*importPlan, string, error) {
	layers, layout, err := weightListLayers(tensors, opts.Layout, arch, unmapped)
	if err == nil && opts.Semantics == SemanticsAuto && opts.ObservationSize > 0 {
		err = refuseDSQNLike(layers, layout, opts.ObservationSize)
	}
	if err != nil {
		return nil, "", err
	}
	if sizes, _ := chainSizes(layers, layout); arch != nil && !slices.Equal(sizes, arch.sizes) {
		return nil, "", fmt.Errorf("formats: arch %s does not match the tensors, which chain as %s", importArchString(arch.sizes), importArchString(sizes))
	}
	acts, notes, err := chainActs(layers, arch, nil, def, weightListWhy)
	if err != nil {
		return nil, "", err
	}
	steps, err := candidateSteps(layers, layout, acts)
	if err != nil {
		return nil, "", err
	}
	return &importPlan{structure: "weight list", steps: steps, notes: notes}, layout, nil
}
