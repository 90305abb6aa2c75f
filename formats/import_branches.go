package formats

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// foldDueling builds the dueling network as plain Dense layers: the trunk,
// then the value and advantage streams side by side (their first layers
// stacked, deeper ones block-diagonal), and the last layers folded into one
// Linear layer: Q_i = V + A_i - mean_j A_j is linear in the streams' last
// hidden activations, so row i of the folded weight is [w_V, W_A,i -
// mean_j W_A,j] (or their sum when both heads read the same trunk output)
// and its bias b_V + b_A,i - mean_j b_A,j, computed in float64 and rounded
// once. The side-by-side hidden layers are exact (the zero blocks add exact
// zeros); the folded layer differs from PyTorch's three-step float32
// evaluation only by rounding.
func foldDueling(trunk, value, adv []denseStep) ([]denseStep, error) {
	if len(value) != len(adv) {
		return nil, fmt.Errorf("formats: dueling streams of different depths: value %d layers, advantage %d; they cannot be run side by side", len(value), len(adv))
	}
	if v := value[len(value)-1]; v.out != 1 {
		return nil, fmt.Errorf("formats: dueling value head %s has %d outputs, want 1 (V(s))", v.weight, v.out)
	}
	steps := append([]denseStep(nil), trunk...)
	steps, err := appendSideBySide(steps, value, adv)
	if err != nil {
		return nil, err
	}
	shared := len(value) == 1 // both heads read the same vector
	s, err := foldHeads(value[len(value)-1], adv[len(adv)-1], shared)
	if err != nil {
		return nil, err
	}
	return append(steps, s), nil
}

// appendSideBySide appends the hidden layers of the two streams run side by
// side: the first layers (both reading the trunk's output) stacked, deeper
// ones block-diagonal.
func appendSideBySide(steps, value, adv []denseStep) ([]denseStep, error) {
	for k := 0; k < len(value)-1; k++ {
		v, a := value[k], adv[k]
		if v.act != a.act {
			return nil, fmt.Errorf("formats: dueling streams use different activations after %s (%s) and %s (%s)", v.weight, v.act, a.weight, a.act)
		}
		s := denseStep{out: v.out + a.out, act: v.act, weight: v.weight + " | " + a.weight}
		if k == 0 {
			// Both read the trunk's output: stack the rows.
			s.in = v.in
			s.w = append(append([]float32(nil), v.w...), a.w...)
		} else {
			s.in = v.in + a.in
			s.w = make([]float32, s.out*s.in)
			for o := 0; o < v.out; o++ {
				copy(s.w[o*s.in:], v.w[o*v.in:(o+1)*v.in])
			}
			for o := 0; o < a.out; o++ {
				copy(s.w[(v.out+o)*s.in+v.in:], a.w[o*a.in:(o+1)*a.in])
			}
		}
		if v.b != nil || a.b != nil {
			s.b = make([]float32, s.out)
			copy(s.b, v.b)
			copy(s.b[v.out:], a.b)
			s.bias = v.bias + " | " + a.bias
		}
		steps = append(steps, s)
	}
	return steps, nil
}

// foldHeads folds the value head v and the advantage head a into one
// Linear layer (Q = V + A - mean(A)); shared: both read the same vector.
func foldHeads(v, a denseStep, shared bool) (denseStep, error) {
	n := a.out
	in := v.in + a.in
	if shared {
		in = v.in
	}
	meanW := make([]float64, a.in)
	for o := 0; o < n; o++ {
		for i := 0; i < a.in; i++ {
			meanW[i] += float64(a.w[o*a.in+i])
		}
	}
	for i := range meanW {
		meanW[i] /= float64(n)
	}
	var meanB float64
	for _, b := range a.b {
		meanB += float64(b)
	}
	meanB /= float64(n)
	s := denseStep{in: in, out: n, w: make([]float32, n*in), b: make([]float32, n), act: identityAct,
		weight: fmt.Sprintf("%s + %s (folded: V + A - mean(A))", v.weight, a.weight)}
	if v.bias != "" || a.bias != "" {
		s.bias = fmt.Sprintf("%s + %s (folded)", v.bias, a.bias)
	}
	for o := 0; o < n; o++ {
		row := s.w[o*in : (o+1)*in]
		for i := 0; i < a.in; i++ {
			aw := float64(a.w[o*a.in+i]) - meanW[i]
			if shared {
				row[i] = float32(float64(v.w[i]) + aw)
			} else {
				row[v.in+i] = float32(aw)
			}
		}
		if !shared {
			copy(row[:v.in], v.w)
		}
		var vb, ab float64
		if v.b != nil {
			vb = float64(v.b[0])
		}
		if a.b != nil {
			ab = float64(a.b[o])
		}
		s.b[o] = float32(vb + ab - meanB)
	}
	if i := slices.IndexFunc(s.b, func(x float32) bool { return math.IsInf(float64(x), 0) }); i >= 0 {
		return denseStep{}, fmt.Errorf("formats: dueling fold: bias [%d] overflows float32", i)
	}
	return s, nil
}

// planBranches imports a trunk with heads: dueling (value + advantage,
// folded) or actor-critic (the actor unless the critic is chosen).
func planBranches(roles map[string][]linearCandidate, order []string, layout, head string, mods *moduleTable, def actSpec, defWhy string, unmapped map[*Tensor]string) (*importPlan, error) {
	trunk := roles[roleTrunk]
	var subs []string
	for _, r := range order {
		subs = append(subs, fmt.Sprintf("%s %s", roleName(r), describeChains(splitChains(roles[r], layout), layout)))
	}
	if len(trunk) > 0 {
		subs = append([]string{"trunk " + describeChains(splitChains(trunk, layout), layout)}, subs...)
	}
	listing := strings.Join(subs, "; ")
	if err := checkBranches(roles, order, layout, listing); err != nil {
		return nil, err
	}
	has := func(r string) bool { _, ok := roles[r]; return ok }
	stepsOf := func(chain []linearCandidate) ([]denseStep, []string, error) {
		acts, notes, err := chainActs(chain, nil, mods, def, defWhy)
		if err != nil {
			return nil, nil, err
		}
		steps, err := candidateSteps(chain, layout, acts)
		return steps, notes, err
	}
	want := headRole(head)
	if head != "" && want == "" {
		return nil, fmt.Errorf("formats: head %q: want actor or critic (value) for this file: %s: %w", head, listing, ErrAmbiguousNetwork)
	}
	switch {
	case has(roleValue) && has(roleAdvantage) && !has(roleActor) && want == "":
		return planDueling(roles, listing, stepsOf)
	case has(roleActor) && has(roleValue) && !has(roleAdvantage):
		return planActorCritic(roles, want, head, layout, listing, unmapped, stepsOf)
	}
	return nil, fmt.Errorf("formats: sub-networks of roles spikebridge cannot combine into one network: %s: %w", listing, ErrAmbiguousNetwork)
}

// checkBranches refuses a trunk or sub-network whose layers do not chain,
// and sub-networks that do not read the trunk's output (or, without a
// trunk, the same input).
func checkBranches(roles map[string][]linearCandidate, order []string, layout, listing string) error {
	trunk := roles[roleTrunk]
	if len(trunk) > 0 && len(splitChains(trunk, layout)) > 1 {
		return fmt.Errorf("formats: the trunk's layers do not chain: %s: %w", listing, ErrAmbiguousNetwork)
	}
	trunkOut := -1
	if len(trunk) > 0 {
		_, trunkOut = trunk[len(trunk)-1].inOut(layout)
	}
	for _, r := range order {
		chains := splitChains(roles[r], layout)
		if len(chains) > 1 {
			return fmt.Errorf("formats: the %s sub-network's layers do not chain: %s: %w", roleName(r), listing, ErrAmbiguousNetwork)
		}
		in, _ := roles[r][0].inOut(layout)
		if trunkOut >= 0 && in != trunkOut {
			return fmt.Errorf("formats: the %s sub-network takes %d inputs, the trunk gives %d: %s: %w", roleName(r), in, trunkOut, listing, ErrAmbiguousNetwork)
		}
		if trunkOut < 0 {
			first, _ := roles[order[0]][0].inOut(layout)
			if in != first {
				return fmt.Errorf("formats: the sub-networks take different inputs: %s: %w", listing, ErrAmbiguousNetwork)
			}
		}
	}
	return nil
}

// branchSteps converts a chain to steps with its activations and notes.
type branchSteps func(chain []linearCandidate) ([]denseStep, []string, error)

// planDueling imports the trunk and both streams, folded into one output
// layer.
func planDueling(roles map[string][]linearCandidate, listing string, stepsOf branchSteps) (*importPlan, error) {
	trunk := roles[roleTrunk]
	full := append(append([]linearCandidate(nil), trunk...), roles[roleValue]...)
	fullSteps, notes, err := stepsOf(full)
	if err != nil {
		return nil, err
	}
	// The advantage stream's own activations; its last layer is the head.
	advFull := append(append([]linearCandidate(nil), trunk...), roles[roleAdvantage]...)
	advSteps, advNotes, err := stepsOf(advFull)
	if err != nil {
		return nil, err
	}
	steps, err := foldDueling(fullSteps[:len(trunk)], fullSteps[len(trunk):], advSteps[len(trunk):])
	if err != nil {
		return nil, err
	}
	p := &importPlan{structure: "dueling", steps: steps}
	p.notes = append(p.notes, fmt.Sprintf("dueling network: %s; the value and advantage heads are folded exactly into one Linear layer (Q = V + A - mean(A))", listing))
	p.notes = append(p.notes, notes...)
	for _, n := range advNotes {
		if !slices.Contains(p.notes, n) {
			p.notes = append(p.notes, n)
		}
	}
	return p, nil
}

// planActorCritic imports the trunk and the actor, or the critic when
// want is the value role, and marks the other head unmapped.
func planActorCritic(roles map[string][]linearCandidate, want, head, layout, listing string, unmapped map[*Tensor]string, stepsOf branchSteps) (*importPlan, error) {
	pick, why := roleActor, "an actor-critic file: the actor (policy) is the network that acts; the critic is left out (choose it as the head to import it)"
	if want == roleValue {
		pick, why = roleValue, "an actor-critic file: the critic (value) head, as chosen"
	} else if want != "" && want != roleActor {
		return nil, fmt.Errorf("formats: head %q: this actor-critic file has an actor and a critic: %s: %w", head, listing, ErrAmbiguousNetwork)
	}
	other := roleValue
	if pick == roleValue {
		other = roleActor
	}
	for _, c := range roles[other] {
		markOne(c, unmapped, fmt.Sprintf("the %s head, not imported", roleName(other)))
	}
	chain := append(append([]linearCandidate(nil), roles[roleTrunk]...), roles[pick]...)
	steps, notes, err := stepsOf(chain)
	if err != nil {
		return nil, err
	}
	p := &importPlan{structure: "actor-critic", steps: steps}
	p.notes = append(p.notes, fmt.Sprintf("%s: imported %s; sub-networks: %s", why, describeChains([][]linearCandidate{chain}, layout), listing))
	p.notes = append(p.notes, notes...)
	return p, nil
}
