package formats

import (
	"fmt"
	"slices"
	"strings"
)

// planWithArch imports the chain of the given sizes: one of the file's
// sub-networks (a trunk with one head, a plain chain), else any run of
// consecutive Linear layers of one group that stays inside one sub-network.
func planWithArch(cands []linearCandidate, layout string, arch *archSpec, unmapped map[*Tensor]string) (*importPlan, error) {
	var runs [][]linearCandidate
	for _, group := range groupsOf(cands) {
		roles := map[string][]linearCandidate{}
		for _, c := range group {
			r := roleOf(moduleOf(c))
			roles[r] = append(roles[r], c)
		}
		for _, r := range []string{roleActor, roleValue, roleAdvantage, roleTarget} {
			if layers := roles[r]; len(layers) > 0 {
				runs = append(runs, append(append([]linearCandidate(nil), roles[roleTrunk]...), layers...))
			}
		}
		runs = append(runs, splitChains(group, layout)...)
	}
	for start := 0; start+len(arch.sizes)-1 <= len(cands); start++ {
		runs = append(runs, cands[start:start+len(arch.sizes)-1])
	}
	var crossed []string
	for _, run := range runs {
		sizes, ok := chainSizes(run, layout)
		if !ok || !slices.Equal(sizes, arch.sizes) || !sameCheckpointGroup(run) {
			continue
		}
		if bad, why := crossesSubnetworks(run); bad {
			crossed = append(crossed, why)
			continue
		}
		markUnchosen(cands, run, unmapped, "Linear layer outside the chain matching the arch "+importArchString(arch.sizes))
		acts, _, err := chainActs(run, arch, nil, arch.act, "")
		if err != nil {
			return nil, err
		}
		steps, err := candidateSteps(run, layout, acts)
		if err != nil {
			return nil, err
		}
		return &importPlan{structure: "chain (arch)", steps: steps,
			notes: []string{fmt.Sprintf("the layers of arch %s: %s, %s between them", importArchString(arch.sizes), describeChains([][]linearCandidate{run}, layout), arch.act)}}, nil
	}
	if len(crossed) > 0 {
		return nil, fmt.Errorf("formats: arch %s matches only chains that cross from one sub-network into another (%s); such a network does not exist in the file: %w",
			importArchString(arch.sizes), strings.Join(crossed, "; "), ErrAmbiguousNetwork)
	}
	subs := ""
	for _, group := range groupsOf(cands) {
		byRole := map[string][]linearCandidate{}
		for _, c := range group {
			byRole[roleOf(moduleOf(c))] = append(byRole[roleOf(moduleOf(c))], c)
		}
		if len(byRole) > 1 || byRole[roleTrunk] == nil {
			var parts []string
			for _, r := range []string{roleTrunk, roleActor, roleValue, roleAdvantage, roleTarget} {
				if layers := byRole[r]; layers != nil {
					parts = append(parts, roleName(r)+" "+describeChains(splitChains(layers, layout), layout))
				}
			}
			subs += "; sub-networks: " + strings.Join(parts, "; ") + " (a chain stays inside one of them)"
		}
	}
	return nil, fmt.Errorf("formats: arch %s does not match the tensors: the Linear layers (%s) chain as %s%s",
		importArchString(arch.sizes), layout, describeChains(splitChains(cands, layout), layout), subs)
}
