package report

import (
	"bytes"
	"math"
	"testing"
)

func TestWriteErrorCurve(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteErrorCurve(&buf, "t", 5, []float64{0.05, 0.04, 0.02}, 2); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("\x89PNG")) {
		t.Error("not a PNG")
	}
	if err := WriteErrorCurve(&buf, "t", 5, []float64{math.NaN()}, 2); err == nil {
		t.Error("NaN accepted")
	}
	if err := WriteErrorCurve(&buf, "t", 5, nil, 2); err == nil {
		t.Error("empty curve accepted")
	}
}
