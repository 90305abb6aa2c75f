package formats

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/nlpodyssey/gopickle/types"
)

const (
	// maxTorchDepth bounds the nesting of containers (and breaks cycles).
	maxTorchDepth = 100
	// maxTorchScalars bounds the scalars kept (a pickled Python list of a
	// million floats is data we do not need to name one by one).
	maxTorchScalars = 1 << 16
	// maxTorchModules bounds the nn.Module objects recorded.
	maxTorchModules = 1 << 16
)

// torchWalker turns the unpickled object into a TorchFile, depth first.
type torchWalker struct {
	tf        *TorchFile
	visits    int
	maxVisits int // bounds the time spent on objects shared many times
	budget    int // values that may still be materialised
}

// walkTorch collects the tensors and scalars under root. The materialised
// values are bounded by four per byte of the file plus 1 Mi, which only
// stride-0 views or many views of one storage can reach.
func walkTorch(root any, format string, fileSize int64) (*TorchFile, error) {
	w := &torchWalker{
		tf:        &TorchFile{Format: format},
		maxVisits: 4*int(min(fileSize, 1<<40)) + 1<<16,
		budget:    4*int(min(fileSize, 1<<40)) + 1<<20,
	}
	if err := w.walk(root, nil, nil, 0); err != nil {
		return nil, err
	}
	return w.tf, nil
}

// moduleContainers are the nn.Module attributes whose level the state_dict
// names leave out.
var moduleContainers = map[string]bool{"_parameters": true, "_buffers": true, "_modules": true}

func (w *torchWalker) walk(v any, path, name []string, depth int) error {
	if w.visits++; w.visits > w.maxVisits {
		return fmt.Errorf("object graph too large: more than %d visits (shared references?)", w.maxVisits)
	}
	if depth > maxTorchDepth {
		return fmt.Errorf("%s: containers nested deeper than %d (or a cycle)", torchJoin(path), maxTorchDepth)
	}
	child := func(key string, keepName bool, value any) error {
		p := append(path[:len(path):len(path)], key)
		n := name
		if !keepName {
			n = append(name[:len(name):len(name)], key)
		}
		return w.walk(value, p, n, depth+1)
	}
	switch x := v.(type) {
	case *torchTensor:
		t, err := x.materialise(&w.budget)
		if err != nil {
			return fmt.Errorf("tensor %q: %w", torchJoin(name), err)
		}
		t.Path = append([]string{}, path...)
		t.Name = strings.Join(name, ".")
		w.tf.Tensors = append(w.tf.Tensors, t)
	case *types.OrderedDict:
		for e := x.List.Front(); e != nil; e = e.Next() {
			entry := e.Value.(*types.OrderedDictEntry)
			if err := child(torchKey(entry.Key), false, entry.Value); err != nil {
				return err
			}
		}
	case *types.Dict:
		for _, entry := range *x {
			if err := child(torchKey(entry.Key), false, entry.Value); err != nil {
				return err
			}
		}
	case *types.List:
		for i, item := range *x {
			if err := child(strconv.Itoa(i), false, item); err != nil {
				return err
			}
		}
	case *types.Tuple:
		for i, item := range *x {
			if err := child(strconv.Itoa(i), false, item); err != nil {
				return err
			}
		}
	case *pyObject:
		return w.walkObject(x, name, child)
	case int, int64, float64, bool, string, *big.Int:
		if len(w.tf.Scalars) < maxTorchScalars {
			w.tf.Scalars = append(w.tf.Scalars, TorchScalar{Path: append([]string{}, path...), Name: torchJoin(name), Value: x})
		}
	}
	return nil
}

// walkObject descends into an object's __dict__. For nn.Module objects the
// _parameters/_buffers/_modules levels stay in Path but not in Name, so a
// whole-module pickle yields the state_dict names (fc1.weight).
func (w *torchWalker) walkObject(o *pyObject, name []string, child func(string, bool, any) error) error {
	state := o.state
	if tuple, ok := state.(*types.Tuple); ok && tuple.Len() == 2 {
		state = tuple.Get(0) // (__dict__, slot state)
	}
	var keys []string
	var values []any
	switch d := state.(type) {
	case *types.Dict:
		for _, e := range *d {
			keys, values = append(keys, torchKey(e.Key)), append(values, e.Value)
		}
	case *types.OrderedDict:
		for e := d.List.Front(); e != nil; e = e.Next() {
			entry := e.Value.(*types.OrderedDictEntry)
			keys, values = append(keys, torchKey(entry.Key)), append(values, entry.Value)
		}
	default:
		return nil // an object we know nothing of (builtins.set, numpy, ...)
	}
	isModule := false
	for _, k := range keys {
		isModule = isModule || moduleContainers[k]
	}
	if isModule && len(w.tf.Modules) < maxTorchModules && o.class != nil {
		w.tf.Modules = append(w.tf.Modules, TorchModule{Name: strings.Join(name, "."), Class: o.class.String()})
	}
	for i, k := range keys {
		if err := child(k, isModule && moduleContainers[k], values[i]); err != nil {
			return err
		}
	}
	return nil
}

// torchKey writes a dict key as a path element.
func torchKey(k any) string {
	switch x := k.(type) {
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	}
	return fmt.Sprint(k)
}

func torchJoin(parts []string) string {
	if len(parts) == 0 {
		return "<root>"
	}
	return strings.Join(parts, ".")
}
