package parse

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Compression magic numbers.
var (
	magicGzip = []byte{0x1f, 0x8b}
	magicZstd = []byte{0x28, 0xb5, 0x2f, 0xfd}
	magicXZ   = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}
)

// Decompress returns a reader of r's content, decompressed if it starts
// with a gzip, zstd or xz magic number (detected by content, not name),
// and the name of the compression ("" for none).
func Decompress(r io.Reader) (io.ReadCloser, string, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(6)
	switch {
	case bytes.HasPrefix(head, magicGzip):
		z, err := gzip.NewReader(br)
		if err != nil {
			return nil, "", fmt.Errorf("gzip: %w", err)
		}
		return z, "gzip", nil
	case bytes.HasPrefix(head, magicZstd):
		z, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30))
		if err != nil {
			return nil, "", fmt.Errorf("zstd: %w", err)
		}
		return z.IOReadCloser(), "zstd", nil
	case bytes.HasPrefix(head, magicXZ):
		z, err := xz.NewReader(br)
		if err != nil {
			return nil, "", fmt.Errorf("xz: %w", err)
		}
		return io.NopCloser(z), "xz", nil
	}
	return io.NopCloser(br), "", nil
}

// OpenInput opens path for parsing: "-" is stdin; compressed files are
// decompressed. Close the returned reader when done.
func OpenInput(path string, stdin io.Reader) (io.ReadCloser, string, error) {
	var f io.ReadCloser
	if path == "-" {
		f = io.NopCloser(stdin)
	} else {
		o, err := os.Open(path)
		if err != nil {
			return nil, "", err
		}
		f = o
	}
	d, comp, err := Decompress(f)
	if err != nil {
		f.Close()
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	return &stacked{d, f}, comp, nil
}

type stacked struct {
	io.ReadCloser
	under io.Closer
}

func (s *stacked) Close() error {
	err := s.ReadCloser.Close()
	if e := s.under.Close(); err == nil {
		err = e
	}
	return err
}
