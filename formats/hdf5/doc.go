// Package hdf5 reads and writes the small subset of HDF5 that NIR graph files
// use, in plain Go: superblock version 0, version-1 object headers,
// symbol-table groups (v1 B-trees of symbol nodes over a local heap),
// contiguous, compact and chunked datasets (deflate, shuffle and fletcher32
// filters on read; deflate on write), little- or big-endian float32/float64
// and integer elements, fixed-length strings and variable-length UTF-8
// strings (global heap), simple and scalar dataspaces.
//
// A file is read whole into a tree of Groups and Datasets (Read); Write
// stores such a tree. Attributes, links other than hard links in symbol
// tables, compound, enum and reference types are not part of the subset: a
// dataset of another type is kept in the tree with Unsupported set, so a
// caller that does not need it can go on.
//
// Guarantees: every size and address read from a file is checked against
// the file's length before it is used or allocated; decoded data (after
// decompression) is capped by ReadOptions.MaxBytes; group cycles and
// over-deep trees are errors. Bad input gives an error naming the object's
// path, never a panic or a hang. Write is deterministic: the same tree gives
// the same bytes, and Read(Write(tree)) is the tree again, bit for bit.
package hdf5
