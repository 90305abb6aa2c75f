package export

import "github.com/spikebridge/spikebridge/snn"

// Float64Copy returns net with every parameter widened to float64 (exact),
// the precision the script targets compute in; the result is the reference
// an exported script is compared with.
func Float64Copy(net *snn.Network) (*snn.NetworkOf[float64], error) {
	spec := snn.NetworkOf[float64]{Timesteps: net.Timesteps, Propagation: net.Propagation, Readout: net.Readout,
		OutputScale: float64(net.OutputScale), Input: snn.InputOf[float64]{Encoding: net.Input.Encoding,
			Gain: float64(net.Input.Gain), Threshold: float64(net.Input.Threshold), InitialMembrane: float64(net.Input.InitialMembrane)}}
	for _, l := range net.Layers {
		spec.Layers = append(spec.Layers, snn.LayerOf[float64]{Name: l.Name, In: l.In, Out: l.Out,
			Weights: widen(l.Weights), Bias: widen(l.Bias), Threshold: float64(l.Threshold), Thresholds: widen(l.Thresholds),
			StrictThreshold: l.StrictThreshold, Leak: float64(l.Leak), Reset: l.Reset,
			InitialMembrane: float64(l.InitialMembrane), InitialMembranes: widen(l.InitialMembranes)})
	}
	return snn.New(spec)
}

func widen(v []float32) []float64 {
	if v == nil {
		return nil
	}
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}
