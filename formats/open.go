package formats

import (
	"fmt"
	"os"
)

// openSized opens path for a ReaderAt-based reader and returns its size;
// every reader of a named file opens it here.
func openSized(path string) (*os.File, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("formats: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("formats: %s: %w", path, err)
	}
	return f, st.Size(), nil
}
