package emulator

// TrainConfig holds the settings of the emulator trainers (train/), kept
// in every emulator file so that a run can be reproduced and resumed.
type TrainConfig struct {
	Hidden []int   `json:"hidden"` // hidden widths (rate and spiking forward: one per layer; spiking: one recurrent layer)
	Epochs int     `json:"epochs"` // most passes over the training samples
	Batch  int     `json:"batch"`  // mini-batch size (fixed; the last batch is padded with masked rows)
	LR     float64 `json:"lr"`     // Adam learning rate
	Seed   uint64  `json:"seed"`   // initialisation and shuffling
	// Patience stops training after this many epochs without a lower
	// validation loss; the network of the best epoch is returned. 0 = off.
	Patience int `json:"patience"`
	// Freeze names layers whose parameters stay fixed (rate and spiking
	// forward: the Dense layers "fc1", "fc2", ..., the last being the readout; spiking:
	// "input", "recurrent", "readout").
	Freeze []string `json:"freeze,omitempty"`
	// LRFinal, when > 0, is reached by a cosine decay at the last epoch.
	LRFinal float64 `json:"lr_final,omitempty"`
	// Spiking emulator only (0 = default): membrane leak and synaptic
	// trace decay per step, and the slope of the surrogate gradient (also
	// the spiking forward model's, whose neurons never leak: Leak and
	// TraceDecay must stay 0 there).
	Leak           float64 `json:"leak,omitempty"`
	TraceDecay     float64 `json:"trace_decay,omitempty"`
	SurrogateSlope float64 `json:"surrogate_slope,omitempty"`
	// Feedback makes the spiking emulator a forward model rolled over the
	// window (Spiking.Feedback).
	Feedback bool `json:"feedback,omitempty"`
	// GradClip > 0 rescales each batch's gradient (of the trained tensors)
	// to at most this L2 norm before the Adam step. 0 = off.
	GradClip float64 `json:"grad_clip,omitempty"`
	// ClipFloor > 0 (rate emulator) trains with quantisation-aware hidden
	// activations, as train.ClassifierConfig.ClipFloor: each hidden activation is
	// clip(z, 0, 1) rounded to ClipFloor levels in the forward pass, with the
	// gradient of the clip alone (straight through); the validation loss is
	// the rounded network's. The returned network keeps plain ReLUs: run it
	// with model.ClipFloorPredictor, convert it with unit normalisation (threshold
	// 1 = the clip). 0 = off.
	ClipFloor int `json:"clip_floor,omitempty"`
}
