package formats

import (
	"errors"
	"strings"
	"testing"
)

// A weight list of square layers chains in both layouts: the error names
// both layout values (not a CLI flag) and wraps ErrAmbiguousLayout so the
// caller can say how to choose.
func TestWeightListAmbiguousLayout(t *testing.T) {
	w0 := &Tensor{Path: []string{"0"}, Name: "0", DType: "float32", Shape: []int{4, 4}}
	w1 := &Tensor{Path: []string{"1"}, Name: "1", DType: "float32", Shape: []int{4, 4}}
	_, _, err := weightListLayers([]*Tensor{w0, w1}, "", nil, map[*Tensor]string{})
	if !errors.Is(err, ErrAmbiguousLayout) {
		t.Fatalf("err = %v, want ErrAmbiguousLayout", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, LayoutInOut) || !strings.Contains(msg, LayoutOutIn) || strings.Contains(msg, "--") {
		t.Errorf("message %q: want both layout values and no flag name", msg)
	}
	layers, layout, err := weightListLayers([]*Tensor{w0, w1}, LayoutInOut, nil, map[*Tensor]string{})
	if err != nil || layout != LayoutInOut || len(layers) != 2 {
		t.Errorf("with the layout chosen: %d layers, layout %q, err %v; want 2, %q, nil", len(layers), layout, err, LayoutInOut)
	}
}
