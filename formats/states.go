package formats

import (
	"fmt"
	"math"
)

// LoadStates reads recorded states from an .npz: the array "states", or the
// array named by "FILE.npz:array", of shape (rows, width), as float32
// row-major, and the file's "actions" labels (one action index per row)
// when present. inputs is the width the caller wants, named in errors; the
// caller checks the values against its network.
func LoadStates(spec string, inputs int) (data []float32, width int, labels []int, err error) {
	path, name := SplitArraySpec(spec, "states")
	arrays, err := ReadNPZ(path)
	if err != nil {
		return nil, 0, nil, err
	}
	a, ok := arrays[name]
	if !ok {
		return nil, 0, nil, fmt.Errorf("%s: no array %q (want (rows, %d) calibration states)", path, name, inputs)
	}
	if len(a.Shape) != 2 {
		return nil, 0, nil, fmt.Errorf("%s: array %q has shape %v, want (rows, %d)", path, name, a.Shape, inputs)
	}
	if a.Shape[0] > 0 {
		data = a.Float32s()
	}
	if la, ok := arrays["actions"]; ok {
		if la.Len() != a.Shape[0] {
			return nil, 0, nil, fmt.Errorf("%s: array \"actions\" holds %d labels for %d states", path, la.Len(), a.Shape[0])
		}
		for i, v := range la.Data {
			if v != math.Trunc(v) || v < 0 {
				return nil, 0, nil, fmt.Errorf("%s: array \"actions\": label %d is %v, want an action index", path, i, v)
			}
			labels = append(labels, int(v))
		}
	}
	return data, a.Shape[1], labels, nil
}
