package formats

// chooseGroups picks the checkpoint groups to import: all of them when
// there is one; else the groups that are not target copies when exactly one
// remains, or when they name different roles (an "actor" and a "critic");
// else the first group that is not a target copy.
func chooseGroups(cands []linearCandidate) map[string]bool {
	groups := groupsOf(cands)
	if len(groups) == 1 {
		return map[string]bool{groups[0][0].group: true}
	}
	var live []string
	roles := map[string]bool{}
	for _, g := range groups {
		name := g[0].group
		if r := roleOf(name); r != roleTarget {
			live = append(live, name)
			roles[r] = true
		}
	}
	if len(live) == 0 {
		return map[string]bool{groups[0][0].group: true}
	}
	if len(live) > 1 && !roles[roleTrunk] && len(roles) > 1 {
		chosen := map[string]bool{}
		for _, name := range live {
			chosen[name] = true
		}
		return chosen
	}
	return map[string]bool{live[0]: true}
}

func markOne(c linearCandidate, unmapped map[*Tensor]string, reason string) {
	unmapped[c.weight] = reason
	if c.bias != nil {
		unmapped[c.bias] = reason
	}
}

func groupsOf(cands []linearCandidate) [][]linearCandidate {
	var groups [][]linearCandidate
	idx := map[string]int{}
	for _, c := range cands {
		i, ok := idx[c.group]
		if !ok {
			i = len(groups)
			idx[c.group] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], c)
	}
	return groups
}
