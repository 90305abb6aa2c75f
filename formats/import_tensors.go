package formats

import (
	"fmt"
	"math"
	"strings"
)

func isTorchFloat(dt string) bool {
	switch dt {
	case "float32", "float64", "float16", "bfloat16":
		return true
	}
	return false
}

// notYetConvertible starts the reasons of tensors that belong to layers the
// model package cannot hold yet (convolution, batch norm).
const notYetConvertible = "not yet convertible: "

// unmappedReason says why a tensor that is not a Linear weight or bias was
// left out.
func unmappedReason(t *Tensor, byName map[string]*Tensor) string {
	module, field, _ := cutLastDot(t.Name, ".")
	switch {
	case field == "exp_avg" || field == "exp_avg_sq" || field == "momentum_buffer" || strings.HasPrefix(t.Name, "optimizer."):
		return "optimizer state"
	case len(t.Shape) > 2 && field == "weight":
		return fmt.Sprintf(notYetConvertible+"%d-d weight (convolution?)", len(t.Shape))
	case field == "bias" && byName[module+".weight"] != nil && len(byName[module+".weight"].Shape) > 2:
		return fmt.Sprintf(notYetConvertible+"bias of a %d-d weight (convolution?)", len(byName[module+".weight"].Shape))
	case field == "running_mean" || field == "running_var" || field == "num_batches_tracked" ||
		(field == "weight" || field == "bias") && byName[module+".running_mean"] != nil:
		return notYetConvertible + "batch-norm parameter or statistic"
	case len(t.Shape) == 0:
		return fmt.Sprintf("0-d %s tensor (scalar parameter): no place in a Dense/ReLU network", t.DType)
	case !isTorchFloat(t.DType):
		return fmt.Sprintf("%s tensor: not a weight", t.DType)
	}
	return fmt.Sprintf("%d-d tensor"+notALinearTensor, len(t.Shape))
}

// notALinearTensor ends the reason of a float tensor that is no Linear
// layer's and nothing else spikebridge knows.
const notALinearTensor = " that is not a Linear weight or bias"

func cutLastDot(s, sep string) (before, after string, found bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return "", s, false
}

// finiteTorchValues converts a tensor's values, refusing NaN and Inf (and
// float64 values beyond float32's range).
func finiteTorchValues(t *Tensor) ([]float32, error) {
	out := t.Float32()
	for i, v := range out {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("formats: tensor %q: element %d (of shape %v) is %v; a network needs finite weights",
				t.Name, i, t.Shape, t.Values[i])
		}
	}
	return out, nil
}

// transposeInOut turns an (in, out) row-major matrix into (out, in).
func transposeInOut(w []float32, in, out int) []float32 {
	t := make([]float32, len(w))
	for i := range in {
		for o := range out {
			t[o*in+i] = w[i*out+o]
		}
	}
	return t
}
