package formats

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/spikebridge/spikebridge/model"
)

// softmaxKind marks a Softmax/LogSoftmax module found after a Linear layer
// (accepted on the output only, where it is left out).
const softmaxKind model.Kind = "softmax"

// actSpec is an activation layer (identity: none).
type actSpec struct {
	kind  model.Kind
	alpha float32
}

func (a actSpec) String() string {
	switch a.kind {
	case model.LeakyReLU, model.ELU:
		return fmt.Sprintf("%s(%g)", a.kind, a.alpha)
	}
	return string(a.kind)
}

var identityAct = actSpec{kind: model.Identity}

// chainActs picks the activation after each layer of chain: the arch's, the
// pickled modules', or def between layers (identity after the last).
func chainActs(chain []linearCandidate, arch *archSpec, mods *moduleTable, def actSpec, defWhy string) ([]actSpec, []string, error) {
	acts := make([]actSpec, len(chain))
	var notes []string
	var assumed []string
	for i, c := range chain {
		last := i == len(chain)-1
		switch {
		case arch != nil:
			acts[i] = arch.act
			if last {
				acts[i] = identityAct
			}
			continue
		case mods != nil:
			a, found, how, err := mods.after(moduleOf(c), last)
			if err != nil {
				return nil, nil, err
			}
			if found && a.kind == softmaxKind {
				if !last {
					return nil, nil, fmt.Errorf("formats: %s between Linear layers (after %s): not an element-wise activation", how, moduleOf(c))
				}
				notes = append(notes, fmt.Sprintf("the output's %s is left out: the network outputs its logits; the greedy action (argmax) is the same", how))
				acts[i] = identityAct
				continue
			}
			if found {
				if last && a.kind != model.Identity {
					notes = append(notes, fmt.Sprintf("output activation %s after %s (%s)", a, moduleOf(c), how))
				} else if !last {
					notes = append(notes, fmt.Sprintf("%s after %s (%s)", a, moduleOf(c), how))
				}
				acts[i] = a
				continue
			}
		}
		if last {
			acts[i] = identityAct
			continue
		}
		acts[i] = def
		assumed = append(assumed, moduleOf(c))
	}
	if len(assumed) > 0 {
		notes = append(notes, fmt.Sprintf("%s after %s: %s", def, strings.Join(assumed, ", "), defWhy))
	}
	return acts, notes, nil
}

// ParseActivation reads an activation name as the import options take it:
// relu, identity (linear), tanh, sigmoid, leaky_relu[=slope] (default 0.01),
// elu[=alpha] (default 1).
func ParseActivation(s string) (model.Kind, float32, error) {
	a, err := parseAct(s)
	return a.kind, a.alpha, err
}

func parseAct(act string) (actSpec, error) {
	name, param, hasParam := strings.Cut(act, "=")
	a := actSpec{kind: model.ReLU}
	switch strings.ToLower(name) {
	case "", "relu":
	case "identity", "linear":
		a.kind = model.Identity
	case "tanh":
		a.kind = model.Tanh
	case "sigmoid":
		a.kind = model.Sigmoid
	case "leaky_relu", "leakyrelu":
		a = actSpec{kind: model.LeakyReLU, alpha: 0.01}
	case "elu":
		a = actSpec{kind: model.ELU, alpha: 1}
	default:
		return a, fmt.Errorf("unknown activation %q (want relu, tanh, sigmoid, leaky_relu[=slope], elu[=alpha] or identity)", act)
	}
	if hasParam {
		v, err := strconv.ParseFloat(param, 32)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || (a.kind != model.LeakyReLU && a.kind != model.ELU) {
			return a, fmt.Errorf("activation parameter %q: want leaky_relu=SLOPE or elu=ALPHA with a finite number", param)
		}
		a.alpha = float32(v)
	}
	return a, nil
}
