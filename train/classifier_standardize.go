package train

import "math"

// columnMoments returns every column's mean and standard deviation (1 for a
// constant column) over the rows of x.
func columnMoments(x []float32, width int) (mean, scale []float64) {
	rows := len(x) / width
	mean, scale = make([]float64, width), make([]float64, width)
	for r := 0; r < rows; r++ {
		for c, v := range x[r*width : (r+1)*width] {
			mean[c] += float64(v)
		}
	}
	for c := range mean {
		mean[c] /= float64(rows)
	}
	for r := 0; r < rows; r++ {
		for c, v := range x[r*width : (r+1)*width] {
			d := float64(v) - mean[c]
			scale[c] += d * d
		}
	}
	for c := range scale {
		scale[c] = math.Sqrt(scale[c] / float64(rows))
		if !(scale[c] > 1e-6) {
			scale[c] = 1
		}
	}
	return mean, scale
}

// standardized returns (x - mean) / scale per column (a new slice).
func standardized(x []float32, mean, scale []float64) []float32 {
	width := len(mean)
	out := make([]float32, len(x))
	for i, v := range x {
		c := i % width
		out[i] = float32((float64(v) - mean[c]) / scale[c])
	}
	return out
}

// standardizeFirstLayer rewrites the first layer for standardized inputs:
// W' = W scale, b' = b + W mean, so that W' (x - mean)/scale + b' = W x + b.
func (p *qParams) standardizeFirstLayer(mean, scale []float64) {
	in, w, b := p.sizes[0], p.weights[0], p.biases[0]
	for o := range b {
		row := w[o*in : (o+1)*in]
		shift := float64(b[o])
		for i, v := range row {
			shift += float64(v) * mean[i]
			row[i] = float32(float64(v) * scale[i])
		}
		b[o] = float32(shift)
	}
}

// unstandardizeFirstLayer is the inverse of standardizeFirstLayer.
func (p *qParams) unstandardizeFirstLayer(mean, scale []float64) {
	in, w, b := p.sizes[0], p.weights[0], p.biases[0]
	for o := range b {
		row := w[o*in : (o+1)*in]
		shift := float64(b[o])
		for i, v := range row {
			orig := float64(v) / scale[i]
			shift -= orig * mean[i]
			row[i] = float32(orig)
		}
		b[o] = float32(shift)
	}
}
