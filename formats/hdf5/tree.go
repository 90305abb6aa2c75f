package hdf5

import (
	"fmt"
	"sort"
)

// Kind is the element type of a dataset as this package hands it out.
type Kind int

// Element kinds. Integers of any width are read as Int64; fixed-length and
// variable-length strings as String.
const (
	Unsupported Kind = iota
	Float32
	Float64
	Int64
	String
)

func (k Kind) String() string {
	switch k {
	case Float32:
		return "float32"
	case Float64:
		return "float64"
	case Int64:
		return "int64"
	case String:
		return "string"
	}
	return "unsupported"
}

// Dataset is an n-dimensional array of one Kind. Shape nil (or empty) is a
// scalar dataspace holding one value. Exactly the slice of Kind holds the
// values, row-major.
type Dataset struct {
	Shape   []int
	Kind    Kind
	Float32 []float32
	Float64 []float64
	Int64   []int64
	Strings []string
	// Deflate asks Write to store the dataset chunked (one chunk) and
	// deflated at this level (1..9; 0 stores it contiguous). Read sets it to
	// the level of a deflated dataset, or 6 where the file does not say.
	Deflate int
	// Reason says why a dataset is Unsupported (its type or layout).
	Reason string
}

// Len is the number of elements the shape holds (1 for a scalar).
func (d *Dataset) Len() int {
	n := 1
	for _, s := range d.Shape {
		n *= s
	}
	return n
}

// Values returns the number of values the dataset holds in its Kind's slice.
func (d *Dataset) Values() int {
	switch d.Kind {
	case Float32:
		return len(d.Float32)
	case Float64:
		return len(d.Float64)
	case Int64:
		return len(d.Int64)
	case String:
		return len(d.Strings)
	}
	return 0
}

// AsFloat64 returns the values of a numeric dataset as float64 (int64 values
// converted), or an error for strings and unsupported types.
func (d *Dataset) AsFloat64() ([]float64, error) {
	out := make([]float64, 0, d.Values())
	switch d.Kind {
	case Float32:
		for _, v := range d.Float32 {
			out = append(out, float64(v))
		}
	case Float64:
		out = append(out, d.Float64...)
	case Int64:
		for _, v := range d.Int64 {
			out = append(out, float64(v))
		}
	default:
		return nil, fmt.Errorf("a %s dataset, want numbers", d.Kind)
	}
	return out, nil
}

// Group is a named collection of groups and datasets.
type Group struct {
	Groups   map[string]*Group
	Datasets map[string]*Dataset
}

// NewGroup returns an empty group.
func NewGroup() *Group {
	return &Group{Groups: map[string]*Group{}, Datasets: map[string]*Dataset{}}
}

// Names returns the names of the group's members in byte order (the order
// of HDF5 symbol tables).
func (g *Group) Names() []string {
	names := make([]string, 0, len(g.Groups)+len(g.Datasets))
	for n := range g.Groups {
		names = append(names, n)
	}
	for n := range g.Datasets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Group returns the member group name, creating it when missing.
func (g *Group) Group(name string) *Group {
	if sub, ok := g.Groups[name]; ok {
		return sub
	}
	sub := NewGroup()
	g.Groups[name] = sub
	return sub
}
