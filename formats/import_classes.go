package formats

import (
	"regexp"
	"strings"

	"github.com/spikebridge/spikebridge/model"
)

// Module classes by their last name component.
var (
	torchActivationKinds = map[string]model.Kind{"ReLU": model.ReLU, "Tanh": model.Tanh, "Sigmoid": model.Sigmoid,
		"LeakyReLU": model.LeakyReLU, "ELU": model.ELU}
	torchPassThrough = map[string]bool{"Dropout": true, "Dropout1d": true, "Dropout2d": true, "AlphaDropout": true,
		"Identity": true, "Flatten": true}
	torchRecurrent = map[string]bool{"LSTM": true, "GRU": true, "RNN": true, "LSTMCell": true, "GRUCell": true, "RNNCell": true}
	torchContainer = map[string]bool{"Sequential": true, "ModuleList": true, "ModuleDict": true}
	// torchSoftmax are row-wise and monotonic: on a network's output they
	// change its values but not its argmax.
	torchSoftmax = map[string]bool{"Softmax": true, "LogSoftmax": true}
	// recurrentTensor matches the parameters of torch's recurrent layers.
	recurrentTensor = regexp.MustCompile(`(^|\.)(weight|bias)_(ih|hh)(_l\d+(_reverse)?)?$`)
)

func className(class string) string {
	if i := strings.LastIndexByte(class, '.'); i >= 0 {
		return class[i+1:]
	}
	return class
}

func isTorchNN(class string) bool { return strings.HasPrefix(class, "torch.nn.") }
