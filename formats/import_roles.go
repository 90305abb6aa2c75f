package formats

import (
	"fmt"
	"strings"
)

// Sub-network roles, read from module names (see roleOf).
const (
	roleTrunk     = ""
	roleActor     = "actor"
	roleValue     = "value"
	roleAdvantage = "advantage"
	roleTarget    = "target"
)

// roleTokens maps a name token to the role of the sub-network it names.
var roleTokens = map[string]string{
	"pi": roleActor, "policy": roleActor, "actor": roleActor, "action": roleActor, "actions": roleActor,
	"logits": roleActor, "mu": roleActor,
	"v": roleValue, "vf": roleValue, "value": roleValue, "values": roleValue, "critic": roleValue, "val": roleValue,
	"adv": roleAdvantage, "advantage": roleAdvantage, "advantages": roleAdvantage, "a": "",
	"target": roleTarget, "tgt": roleTarget,
}

// hasToken reports whether a module name has tok as one of its tokens.
func hasToken(module, tok string) bool {
	for _, part := range strings.Split(module, ".") {
		for _, t := range strings.Split(part, "_") {
			if strings.TrimRight(strings.ToLower(t), "0123456789") == tok {
				return true
			}
		}
	}
	return false
}

// roleOf returns the role of a Linear layer from its module name: a "target"
// token anywhere marks a target-network copy; otherwise the deepest token
// that names a role wins ("actor_critic.critic.0" is the critic).
func roleOf(module string) string {
	role := roleTrunk
	for _, part := range strings.Split(module, ".") {
		for _, tok := range strings.Split(part, "_") {
			tok = strings.TrimRight(strings.ToLower(tok), "0123456789")
			r, ok := roleTokens[tok]
			if !ok || r == "" {
				continue
			}
			if r == roleTarget {
				return roleTarget
			}
			role = r
		}
	}
	return role
}

func moduleOf(c linearCandidate) string { return strings.TrimSuffix(c.weight.Name, ".weight") }

// crossesSubnetworks reports whether a chain of layers runs from one
// sub-network into another (value into actor, a branch back into the
// trunk): the roles along it may only go from the trunk into one branch.
func crossesSubnetworks(run []linearCandidate) (bool, string) {
	branch := roleTrunk
	var from string
	for _, c := range run {
		r := roleOf(moduleOf(c))
		switch {
		case r == roleTrunk && branch != roleTrunk:
			return true, fmt.Sprintf("%s (%s) feeds %s (trunk)", from, branch, moduleOf(c))
		case r != roleTrunk && branch != roleTrunk && r != branch:
			return true, fmt.Sprintf("%s (%s) feeds %s (%s)", from, branch, moduleOf(c), r)
		}
		if r != roleTrunk {
			branch, from = r, moduleOf(c)
		}
	}
	return false, ""
}

// subnetwork is one way to read the file's layers as a network.
type subnetwork struct {
	what   string // "actor", "value head", "chain", ...
	layers []linearCandidate
}

func (s subnetwork) describe(layout string) string {
	return s.what + " " + describeChains([][]linearCandidate{s.layers}, layout)
}

// targetPrefix is the module name up to its component that says "target"
// ("q_net_target.q_net.0" -> "q_net_target.").
func targetPrefix(module string) string {
	parts := strings.Split(module, ".")
	for i, p := range parts {
		if roleOf(p) == roleTarget {
			return strings.Join(parts[:i+1], ".") + "."
		}
	}
	return module
}

// roleName is the role as the report says it.
func roleName(r string) string {
	switch r {
	case roleActor:
		return "actor (policy)"
	case roleValue:
		return "value (critic)"
	case roleAdvantage:
		return "advantage"
	case roleTarget:
		return "target copy"
	}
	return "trunk"
}

// headRole maps a head choice to a role ("" for a module name).
func headRole(head string) string {
	switch strings.ToLower(head) {
	case "actor", "policy", "pi":
		return roleActor
	case "critic", "value", "v", "vf":
		return roleValue
	case "advantage", "adv":
		return roleAdvantage
	}
	return ""
}
