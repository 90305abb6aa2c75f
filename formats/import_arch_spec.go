package formats

import (
	"fmt"
	"strconv"
	"strings"
)

// archSpec is a parsed --arch.
type archSpec struct {
	sizes []int
	act   actSpec
}

func parseImportArch(s string) (*archSpec, error) {
	if s == "" {
		return nil, nil
	}
	sizesPart, act, _ := strings.Cut(s, ":")
	a, err := parseAct(act)
	if err != nil {
		return nil, fmt.Errorf("formats: arch %q: %w", s, err)
	}
	spec := &archSpec{act: a}
	for _, f := range strings.Split(sizesPart, "-") {
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("formats: arch %q: size %q is not a positive integer (want e.g. 4-64-64-2:relu)", s, f)
		}
		spec.sizes = append(spec.sizes, n)
	}
	if len(spec.sizes) < 2 {
		return nil, fmt.Errorf("formats: arch %q: want at least two sizes (e.g. 4-64-64-2)", s)
	}
	return spec, nil
}

func importArchString(sizes []int) string {
	parts := make([]string, len(sizes))
	for i, n := range sizes {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, "-")
}
