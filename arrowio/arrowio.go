package arrowio

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Format is a file format that WriteFile writes.
type Format uint8

// File formats.
const (
	// FormatUnknown is the zero Format: no format WriteFile writes.
	FormatUnknown Format = iota
	// FormatIPC is the Arrow IPC file format (Feather v2), uncompressed.
	FormatIPC
	// FormatParquet is Parquet with zstd-compressed pages and the Arrow
	// schema stored in the file's key-value metadata.
	FormatParquet
)

// String returns the format's name: "arrow", "parquet" or "unknown".
func (f Format) String() string {
	switch f {
	case FormatIPC:
		return "arrow"
	case FormatParquet:
		return "parquet"
	}
	return "unknown"
}

// ErrUnknownExtension is wrapped by the errors of FormatOf, WriteFile and
// ReadFile for a path whose extension names no supported format.
var ErrUnknownExtension = errors.New("unknown file extension")

// extensions lists the extensions FormatOf accepts, as error messages
// name them.
const extensions = ".arrow, .feather, .ipc or .parquet"

// FormatOf returns the file format named by path's extension (compared
// case-insensitively): ".arrow", ".feather" and ".ipc" give FormatIPC,
// ".parquet" gives FormatParquet. Any other extension gives an error
// wrapping ErrUnknownExtension that names it.
func FormatOf(path string) (Format, error) {
	ext := strings.ToLower(filepath.Ext(path))
	switch ext {
	case ".arrow", ".feather", ".ipc":
		return FormatIPC, nil
	case ".parquet":
		return FormatParquet, nil
	}
	what := fmt.Sprintf("%q", ext)
	if ext == "" {
		what = "none"
	}
	return FormatUnknown, fmt.Errorf("%s: %w (%s); want %s", path, ErrUnknownExtension, what, extensions)
}

// WriteFile writes the record batches recs, all of schema schema, to path
// in the format its extension names (see FormatOf). Schema metadata is
// kept in both formats.
//
// The write is atomic: the data goes to a temporary file in path's
// directory, which is synced and then renamed to path (replacing any file
// there). On any error the temporary file is removed and nothing appears
// under path; an existing file under path is left untouched. The file is
// created with mode 0644.
//
// WriteFile does not take ownership of recs. Every batch must share the
// same dictionary per dictionary-encoded column (the Arrow IPC file format
// does not allow replacing a dictionary), as ftrace.Table's records do.
func WriteFile(path string, schema *arrow.Schema, recs []arrow.RecordBatch) error {
	return writeFile(path, schema, recs, memory.DefaultAllocator)
}

func writeFile(path string, schema *arrow.Schema, recs []arrow.RecordBatch, mem memory.Allocator) error {
	format, err := FormatOf(path)
	if err != nil {
		return err
	}
	for i, r := range recs {
		if !r.Schema().Equal(schema) {
			return fmt.Errorf("writing %s: record batch %d: schema differs from the table's", path, i)
		}
	}
	err = writeAtomic(path, func(w io.Writer) error {
		if format == FormatParquet {
			return writeParquet(w, schema, recs, mem)
		}
		return writeIPC(w, schema, recs, mem)
	})
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// ReadFile reads a file written by WriteFile (or any Arrow IPC file or
// Parquet file), choosing the format by path's extension as WriteFile
// does. The caller owns the returned record batches and must Release
// each. It reads the whole file into memory; it exists for tests and
// small files.
func ReadFile(path string) (*arrow.Schema, []arrow.RecordBatch, error) {
	return readFile(path, memory.DefaultAllocator)
}

func readFile(path string, mem memory.Allocator) (*arrow.Schema, []arrow.RecordBatch, error) {
	format, err := FormatOf(path)
	if err != nil {
		return nil, nil, err
	}
	var (
		schema *arrow.Schema
		recs   []arrow.RecordBatch
	)
	if format == FormatParquet {
		schema, recs, err = readParquet(path, mem)
	} else {
		schema, recs, err = readIPC(path, mem)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return schema, recs, nil
}

func releaseAll(recs []arrow.RecordBatch) {
	for _, r := range recs {
		r.Release()
	}
}
