package formats

import (
	"fmt"
	"slices"
	"strings"
)

// Array is a numpy array read from or written to .npy/.npz. Data holds the
// elements in C (row-major) order as float64, which represents every value
// of the supported dtypes exactly except 64-bit integers beyond 2^53.
type Array struct {
	// Name is the npz member name without ".npy" (empty for a lone .npy).
	Name string
	// Shape is the array's shape; nil or empty for a 0-d scalar.
	Shape []int
	// DType is the numpy dtype string, e.g. "<f4", "<f8", "<i8", "|b1".
	DType string
	Data  []float64
}

// NewFloat32Array returns a "<f4" array; data is (shape...) row-major.
func NewFloat32Array(name string, shape []int, data []float32) *Array {
	values := make([]float64, len(data))
	for i, v := range data {
		values[i] = float64(v)
	}
	return &Array{Name: name, Shape: slices.Clone(shape), DType: "<f4", Data: values}
}

// NewFloat64Array returns a "<f8" array; data is (shape...) row-major and
// used as given.
func NewFloat64Array(name string, shape []int, data []float64) *Array {
	return &Array{Name: name, Shape: slices.Clone(shape), DType: "<f8", Data: data}
}

// NewInt64Array returns a "<i8" array (numpy's default integer).
func NewInt64Array(name string, shape []int, data []int) *Array {
	values := make([]float64, len(data))
	for i, v := range data {
		values[i] = float64(v)
	}
	return &Array{Name: name, Shape: slices.Clone(shape), DType: "<i8", Data: values}
}

// Len is the number of elements the shape holds.
func (a *Array) Len() int {
	n := 1
	for _, d := range a.Shape {
		n *= d
	}
	return n
}

// Float32s returns the values converted to float32 (exact for "<f4" data).
func (a *Array) Float32s() []float32 {
	out := make([]float32, len(a.Data))
	for i, v := range a.Data {
		out[i] = float32(v)
	}
	return out
}

// Matrix returns the array as rows of cols values: a 2-d array as is, a 1-d
// array as one row. Other ranks are an error naming the array.
func (a *Array) Matrix() (rows, cols int, err error) {
	switch len(a.Shape) {
	case 1:
		return 1, a.Shape[0], nil
	case 2:
		return a.Shape[0], a.Shape[1], nil
	}
	return 0, 0, fmt.Errorf("array %q: shape %v, want 2 dimensions (rows, features)", a.Name, a.Shape)
}

// SplitArraySpec splits "FILE.npz:array" into the path and array name; the
// name is defaultName when absent. A .npy file holds one array and takes no
// name.
func SplitArraySpec(spec, defaultName string) (path, array string) {
	if i := strings.LastIndex(spec, ":"); i >= 0 && !strings.ContainsAny(spec[i+1:], `/\`) {
		if strings.HasSuffix(strings.ToLower(spec[:i]), ".npz") || strings.HasSuffix(strings.ToLower(spec[:i]), ".npy") {
			return spec[:i], spec[i+1:]
		}
	}
	return spec, defaultName
}

// LoadArray reads one array given as "FILE.npz[:array]" or "FILE.npy";
// errors name the file, the array and the names that do exist.
func LoadArray(spec, defaultName string) (*Array, error) {
	path, name := SplitArraySpec(spec, defaultName)
	if strings.HasSuffix(strings.ToLower(path), ".npy") {
		a, err := ReadNPY(path)
		if err != nil {
			return nil, err
		}
		a.Name = name
		return a, nil
	}
	arrays, err := LoadNPZ(path)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, a := range arrays {
		if a.Name == name {
			return a, nil
		}
		names = append(names, a.Name)
	}
	return nil, fmt.Errorf("formats: %s: no array %q (it holds %s)", path, name, strings.Join(names, ", "))
}
