package nir

import (
	"fmt"
	"io"
	"sort"

	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/formats/hdf5"
)

// Version is the NIR format version written into files (the nir package's
// 1.0 layout: node groups with a "type" string, parameters as datasets, an
// optional "metadata" group of strings).
const Version = "1.0.0"

// Node is one NIR node: its type, its parameters (HDF5 datasets by name)
// and its metadata (string values; other metadata values are kept as
// datasets in Params under "metadata/NAME" only when they are not strings).
type Node struct {
	Type     string
	Params   map[string]*hdf5.Dataset
	Metadata map[string]string
}

// Graph is a NIR graph: named nodes and directed edges (source, target).
type Graph struct {
	Version  string
	Nodes    map[string]*Node
	Edges    [][2]string
	Metadata map[string]string
}

// ReadFile reads a NIR file.
func ReadFile(path string) (*Graph, error) {
	tree, err := hdf5.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("nir: %w", err)
	}
	g, err := FromHDF5(tree)
	if err != nil {
		return nil, fmt.Errorf("nir: %s: %w", path, err)
	}
	return g, nil
}

// Read reads a NIR file of size bytes from r.
func Read(r io.ReaderAt, size int64) (*Graph, error) {
	tree, err := hdf5.Read(r, size, hdf5.ReadOptions{})
	if err != nil {
		return nil, err
	}
	return FromHDF5(tree)
}

func str(d *hdf5.Dataset) (string, bool) {
	if d == nil || d.Kind != hdf5.String || len(d.Strings) != 1 {
		return "", false
	}
	return d.Strings[0], true
}

// FromHDF5 interprets an HDF5 tree as a NIR graph.
func FromHDF5(root *hdf5.Group) (*Graph, error) {
	g := &Graph{}
	if v, ok := str(root.Datasets["version"]); ok {
		g.Version = v
	}
	node := root.Groups["node"]
	if node == nil {
		return nil, fmt.Errorf("no /node group: not a NIR file")
	}
	if t, _ := str(node.Datasets["type"]); t != "NIRGraph" {
		return nil, fmt.Errorf("/node/type is %q, want \"NIRGraph\"", t)
	}
	g.Metadata = readMetadata(node)
	nodes := node.Groups["nodes"]
	if nodes == nil {
		return nil, fmt.Errorf("/node has no nodes group")
	}
	g.Nodes = map[string]*Node{}
	for name, ng := range nodes.Groups {
		t, ok := str(ng.Datasets["type"])
		if !ok {
			return nil, fmt.Errorf("node %q: no type string", name)
		}
		if t == "NIRGraph" {
			return nil, fmt.Errorf("node %q: nested NIRGraph (subgraphs are not supported)", name)
		}
		n := &Node{Type: t, Params: map[string]*hdf5.Dataset{}, Metadata: readMetadata(ng)}
		for p, d := range ng.Datasets {
			if p != "type" {
				n.Params[p] = d
			}
		}
		g.Nodes[name] = n
	}
	edges := node.Datasets["edges"]
	if edges == nil {
		return nil, fmt.Errorf("/node has no edges dataset")
	}
	if edges.Kind != hdf5.String || len(edges.Strings)%2 != 0 || len(edges.Shape) != 2 || edges.Shape[1] != 2 && edges.Len() > 0 {
		return nil, fmt.Errorf("edges: want an (n, 2) array of node names, got %s of shape %v", edges.Kind, edges.Shape)
	}
	for i := 0; i+1 < len(edges.Strings); i += 2 {
		e := [2]string{edges.Strings[i], edges.Strings[i+1]}
		for _, end := range e {
			if g.Nodes[end] == nil {
				return nil, fmt.Errorf("edge %d (%s -> %s) names node %q, which the graph does not hold", i/2, e[0], e[1], end)
			}
		}
		g.Edges = append(g.Edges, e)
	}
	return g, nil
}

func readMetadata(g *hdf5.Group) map[string]string {
	out := map[string]string{}
	if md := g.Groups["metadata"]; md != nil {
		for k, d := range md.Datasets {
			if s, ok := str(d); ok {
				out[k] = s
			} else if v, err := d.AsFloat64(); err == nil && len(v) == 1 {
				out[k] = fmt.Sprint(v[0])
			}
		}
	}
	return out
}

// HDF5 returns the graph as the HDF5 tree NIR files hold. Numeric arrays
// with more than one element are deflated, as nir 1.0 writes them.
func (g *Graph) HDF5() *hdf5.Group {
	root := hdf5.NewGroup()
	version := g.Version
	if version == "" {
		version = Version
	}
	root.Datasets["version"] = stringDataset(version)
	node := root.Group("node")
	node.Datasets["type"] = stringDataset("NIRGraph")
	writeMetadata(node, g.Metadata)
	nodes := node.Group("nodes")
	for name, n := range g.Nodes {
		ng := nodes.Group(name)
		ng.Datasets["type"] = stringDataset(n.Type)
		for p, d := range n.Params {
			ng.Datasets[p] = d
		}
		writeMetadata(ng, n.Metadata)
	}
	edges := &hdf5.Dataset{Shape: []int{len(g.Edges), 2}, Kind: hdf5.String, Strings: []string{}}
	for _, e := range g.Edges {
		edges.Strings = append(edges.Strings, e[0], e[1])
	}
	node.Datasets["edges"] = edges
	return root
}

func writeMetadata(g *hdf5.Group, md map[string]string) {
	if len(md) == 0 {
		return
	}
	m := g.Group("metadata")
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		m.Datasets[k] = stringDataset(md[k])
	}
}

func stringDataset(s string) *hdf5.Dataset {
	return &hdf5.Dataset{Kind: hdf5.String, Strings: []string{s}}
}

// Write writes the graph as a NIR (HDF5) file to w.
func (g *Graph) Write(w io.Writer) error {
	return hdf5.Write(w, g.HDF5())
}

// WriteFile writes the graph to path under the output rule of package
// formats (temporary file, sync, rename; never over a non-regular file).
func (g *Graph) WriteFile(path string) error {
	return formats.WriteFileAtomic(path, g.Write)
}

// param returns a node's numeric parameter as float64 values.
func (n *Node) param(name string) ([]float64, []int, error) {
	d := n.Params[name]
	if d == nil {
		return nil, nil, fmt.Errorf("no %q parameter", name)
	}
	v, err := d.AsFloat64()
	if err != nil {
		return nil, nil, fmt.Errorf("parameter %q: %w", name, err)
	}
	return v, d.Shape, nil
}
