package main

import (
	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/learn"
)

// saveChannel writes a PES channel's parameters (learn.Channel.Parameters)
// as float64 safetensors, atomically.
func saveChannel(path string, c *learn.Channel) error {
	tensors, md, err := c.Parameters()
	if err != nil {
		return err
	}
	list := make([]formats.Float64Tensor, len(tensors))
	for i, t := range tensors {
		list[i] = formats.Float64Tensor(t)
	}
	return formats.SaveFloat64Tensors(path, list, md)
}

// loadChannel reads what saveChannel wrote; errors name the file.
func loadChannel(path string) (*learn.Channel, error) {
	tensors, md, err := formats.LoadFloat64Tensors(path)
	if err != nil {
		return nil, err
	}
	byName := make(map[string]learn.Tensor, len(tensors))
	for name, t := range tensors {
		byName[name] = learn.Tensor(t)
	}
	return learn.ChannelFromParameters(byName, md, path)
}
