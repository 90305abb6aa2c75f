package formats

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// maxDeflateRatio is the largest expansion deflate can achieve (about
// 1032:1); a member declaring more data than that is not a real npz member.
const maxDeflateRatio = 1032

// ReadNPZ reads every array of an .npz file, by name.
func ReadNPZ(path string) (map[string]*Array, error) {
	arrays, err := LoadNPZ(path)
	if err != nil {
		return nil, err
	}
	byName := make(map[string]*Array, len(arrays))
	for _, a := range arrays {
		byName[a.Name] = a
	}
	return byName, nil
}

// LoadNPZ reads every array of an .npz file, in archive order.
func LoadNPZ(path string) ([]*Array, error) {
	f, size, err := openSized(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadNPZArrays(f, size, path)
}

// ReadNPZArrays reads an .npz archive of size bytes from r, in archive
// order; name is used in errors. Stored and deflated members are read.
func ReadNPZArrays(r io.ReaderAt, size int64, name string) ([]*Array, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("formats: %s: not an npz (zip) archive: %w", name, err)
	}
	var arrays []*Array
	b := newBudget()
	seen := make(map[string]bool, len(zr.File))
	for _, f := range zr.File {
		arrayName := strings.TrimSuffix(f.Name, ".npy")
		where := fmt.Sprintf("formats: %s: array %q", name, arrayName)
		if seen[arrayName] {
			return nil, fmt.Errorf("%s: appears twice in the archive", where)
		}
		seen[arrayName] = true
		// The member's declared size bounds what we read; check the claim
		// against the bytes that are really there first.
		declared := f.UncompressedSize64
		switch f.Method {
		case zip.Store:
			if declared != f.CompressedSize64 {
				return nil, fmt.Errorf("%s: stored member declares %d bytes but holds %d", where, declared, f.CompressedSize64)
			}
		case zip.Deflate:
			if declared/maxDeflateRatio > f.CompressedSize64 {
				return nil, fmt.Errorf("%s: member declares %d bytes from %d compressed bytes, more than deflate can hold", where, declared, f.CompressedSize64)
			}
			if err := checkInflation(f.Name, f.CompressedSize64, declared); err != nil {
				return nil, fmt.Errorf("formats: %s: %w", name, err)
			}
		default:
			return nil, fmt.Errorf("%s: zip compression method %d not supported (want stored or deflate)", where, f.Method)
		}
		if f.CompressedSize64 > uint64(size) {
			return nil, fmt.Errorf("%s: member declares %d compressed bytes in a %d-byte file", where, f.CompressedSize64, size)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		a, err := readNPY(rc, int64(min(declared, math.MaxInt64)), b)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		a.Name = arrayName
		arrays = append(arrays, a)
	}
	return arrays, nil
}

// WriteNPZ writes arrays to an .npz archive, atomically (see EncodeNPZ).
func WriteNPZ(path string, arrays []*Array) error {
	if err := checkNPZArrays(arrays); err != nil {
		return fmt.Errorf("formats: %s: %w", path, err)
	}
	return WriteFileAtomic(path, func(w io.Writer) error { return encodeNPZ(w, arrays) })
}

// EncodeNPZ writes arrays as an .npz archive to w. Members are stored
// uncompressed in the order given, with a fixed timestamp, so the same
// arrays always give the same bytes.
func EncodeNPZ(w io.Writer, arrays []*Array) error {
	if err := checkNPZArrays(arrays); err != nil {
		return fmt.Errorf("formats: %w", err)
	}
	return encodeNPZ(w, arrays)
}

func checkNPZArrays(arrays []*Array) error {
	seen := make(map[string]bool, len(arrays))
	for _, a := range arrays {
		if a.Name == "" {
			return errors.New("an array has no name")
		}
		if seen[a.Name] {
			return fmt.Errorf("array %q given twice", a.Name)
		}
		seen[a.Name] = true
		if err := checkWritable(a); err != nil {
			return fmt.Errorf("array %q: %w", a.Name, err)
		}
	}
	return nil
}

func encodeNPZ(w io.Writer, arrays []*Array) error {
	zw := zip.NewWriter(w)
	for _, a := range arrays {
		fw, err := zw.CreateHeader(&zip.FileHeader{
			Name:     a.Name + ".npy",
			Method:   zip.Store,
			Modified: time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC),
		})
		if err != nil {
			return err
		}
		if err := encodeNPY(fw, a); err != nil {
			return fmt.Errorf("array %q: %w", a.Name, err)
		}
	}
	return zw.Close()
}
