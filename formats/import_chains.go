package formats

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// linearCandidate is a 2-d weight with its optional bias.
type linearCandidate struct {
	weight, bias *Tensor
	group        string // the top of the path (checkpoint key), "" for flat dicts
	prefix, id   string // module name split at its last dot: "model." + "fc1"
	index        int    // trailing number of id, or -1
}

// shape returns (in, out) of the candidate under a layout.
func (c linearCandidate) inOut(layout string) (int, int) {
	if layout == LayoutInOut {
		return c.weight.Shape[0], c.weight.Shape[1]
	}
	return c.weight.Shape[1], c.weight.Shape[0]
}

// chainSizes returns the sizes along layers if each output feeds the next
// input and each bias has the output's length.
func chainSizes(layers []linearCandidate, layout string) ([]int, bool) {
	if len(layers) == 0 {
		return nil, false
	}
	var sizes []int
	for i, l := range layers {
		in, out := l.inOut(layout)
		if i == 0 {
			sizes = append(sizes, in)
		} else if sizes[len(sizes)-1] != in {
			return nil, false
		}
		if l.bias != nil && l.bias.Shape[0] != out {
			return nil, false
		}
		sizes = append(sizes, out)
	}
	return sizes, true
}

func sameCheckpointGroup(run []linearCandidate) bool {
	for _, c := range run {
		if c.group != run[0].group {
			return false
		}
	}
	return true
}

func markUnchosen(all, chosen []linearCandidate, unmapped map[*Tensor]string, reason string) {
	for _, c := range all {
		if slices.ContainsFunc(chosen, func(k linearCandidate) bool { return k.weight == c.weight }) {
			continue
		}
		unmapped[c.weight] = reason
		if c.bias != nil {
			unmapped[c.bias] = reason
		}
	}
}

// orderCandidates sorts each run of layers that share group and prefix by
// their trailing numbers, when every layer of the run has a distinct one
// (Sequential indices, fc1..fc10); other runs keep the file's order.
func orderCandidates(cands []linearCandidate) {
	for start := 0; start < len(cands); {
		end := start + 1
		for end < len(cands) && cands[end].group == cands[start].group && cands[end].prefix == cands[start].prefix {
			end++
		}
		run := cands[start:end]
		numbered := true
		seen := map[int]bool{}
		for _, c := range run {
			numbered = numbered && c.index >= 0 && !seen[c.index]
			seen[c.index] = true
		}
		if numbered {
			slices.SortStableFunc(run, func(a, b linearCandidate) int { return a.index - b.index })
		}
		start = end
	}
}

// splitChains cuts the ordered layers into chains: a new chain starts where
// the group changes, where the sizes do not connect, or where a layer has the
// same local name and input width as the chain's first (a second copy such
// as a target net); "features.0, features.2, head.0" is one chain.
func splitChains(cands []linearCandidate, layout string) [][]linearCandidate {
	var chains [][]linearCandidate
	for _, c := range cands {
		if n := len(chains); n > 0 {
			chain := chains[n-1]
			last := chain[len(chain)-1]
			_, lastOut := last.inOut(layout)
			in, out := c.inOut(layout)
			// A layer named like the chain's first that reads the same width
			// starts a copy (a second network of the same shape).
			firstIn, _ := chain[0].inOut(layout)
			copyStart := c.id == chain[0].id && in == firstIn
			connects := c.group == last.group && in == lastOut && !copyStart &&
				(c.bias == nil || c.bias.Shape[0] == out)
			if connects {
				chains[n-1] = append(chain, c)
				continue
			}
		}
		chains = append(chains, []linearCandidate{c})
	}
	return chains
}

func describeChains(chains [][]linearCandidate, layout string) string {
	parts := make([]string, len(chains))
	for i, chain := range chains {
		var names []string
		for _, c := range chain {
			names = append(names, strings.TrimSuffix(c.weight.Name, ".weight"))
		}
		parts[i] = fmt.Sprintf("%s (%s)", importArchString(chainSizesOrPair(chain, layout)), strings.Join(names, ", "))
	}
	return strings.Join(parts, "; ")
}

// chainSizesOrPair is chainSizes, or the first layer's (in, out) when the
// chain does not connect.
func chainSizesOrPair(chain []linearCandidate, layout string) []int {
	if sizes, ok := chainSizes(chain, layout); ok {
		return sizes
	}
	in, out := chain[0].inOut(layout)
	return []int{in, out}
}

func trailingNumber(id string) int {
	i := len(id)
	for i > 0 && id[i-1] >= '0' && id[i-1] <= '9' {
		i--
	}
	if i == len(id) || len(id)-i > 9 {
		return -1
	}
	n, _ := strconv.Atoi(id[i:])
	return n
}
