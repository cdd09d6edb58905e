package arrowio

import (
	"context"
	"io"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// RowGroupRows is the maximum number of rows in one Parquet row group
// (pyarrow's default). Record batches are buffered into row groups of
// this size, so that readers can skip and parallelise by row group
// without the per-group overhead of one group per small batch.
const RowGroupRows = 1 << 20

// readBatchRows is the number of rows per record batch ReadFile returns
// for Parquet files.
const readBatchRows = 64 << 10

// writeIPC writes an uncompressed Arrow IPC file. Body compression is
// left off on purpose: it is an optional feature of the format that
// several readers do not implement (see the package doc).
func writeIPC(w io.Writer, schema *arrow.Schema, recs []arrow.RecordBatch, mem memory.Allocator) error {
	fw, err := ipc.NewFileWriter(w, ipc.WithSchema(schema), ipc.WithAllocator(mem))
	if err != nil {
		return err
	}
	for _, r := range recs {
		if err := fw.Write(r); err != nil {
			fw.Close()
			return err
		}
	}
	return fw.Close()
}

// parquetProps returns the Parquet writer properties for schema:
// zstd pages, data page v1 (read by every Parquet reader, Spark's
// vectorised reader included), dictionary encoding for every column but
// the 64-bit integer ones (timestamps, line numbers and byte offsets are
// nearly all distinct, so a dictionary would only be built to be thrown
// away).
func parquetProps(schema *arrow.Schema, mem memory.Allocator) *parquet.WriterProperties {
	opts := []parquet.WriterProperty{
		parquet.WithAllocator(mem),
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithDictionaryDefault(true),
		parquet.WithDataPageVersion(parquet.DataPageV1),
		parquet.WithMaxRowGroupLength(RowGroupRows),
		parquet.WithCreatedBy("irqtrace (arrow-go parquet)"),
	}
	for _, f := range schema.Fields() {
		switch f.Type.ID() {
		case arrow.INT64, arrow.UINT64:
			opts = append(opts, parquet.WithDictionaryFor(f.Name, false))
		}
	}
	return parquet.NewWriterProperties(opts...)
}

// writeParquet writes a Parquet file that stores the Arrow schema (so
// dictionary columns and schema metadata come back as written).
func writeParquet(w io.Writer, schema *arrow.Schema, recs []arrow.RecordBatch, mem memory.Allocator) error {
	fw, err := pqarrow.NewFileWriter(schema, w, parquetProps(schema, mem),
		pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema(), pqarrow.WithAllocator(mem)))
	if err != nil {
		return err
	}
	for _, r := range recs {
		if r.NumRows() == 0 {
			continue
		}
		if err := fw.WriteBuffered(r); err != nil {
			fw.Close()
			return err
		}
	}
	return fw.Close()
}

func readIPC(path string, mem memory.Allocator) (*arrow.Schema, []arrow.RecordBatch, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	r, err := ipc.NewFileReader(f, ipc.WithAllocator(mem))
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	recs := make([]arrow.RecordBatch, 0, r.NumRecords())
	for i := 0; i < r.NumRecords(); i++ {
		rec, err := r.RecordBatchAt(i)
		if err != nil {
			releaseAll(recs)
			return nil, nil, err
		}
		recs = append(recs, rec)
	}
	return r.Schema(), recs, nil
}

func readParquet(path string, mem memory.Allocator) (*arrow.Schema, []arrow.RecordBatch, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	pf, err := file.NewParquetReader(f, file.WithReadProps(parquet.NewReaderProperties(mem)))
	if err != nil {
		return nil, nil, err
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: readBatchRows}, mem)
	if err != nil {
		return nil, nil, err
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		return nil, nil, err
	}
	defer tbl.Release()
	// The table's schema lacks the file's key-value metadata (pqarrow
	// leaves it out of ReadTable); take it from the file's schema, without
	// the serialized Arrow schema itself.
	fileSchema, err := fr.Schema()
	if err != nil {
		return nil, nil, err
	}
	var keys, vals []string
	meta := fileSchema.Metadata()
	for i, k := range meta.Keys() {
		if k != "ARROW:schema" {
			keys, vals = append(keys, k), append(vals, meta.Values()[i])
		}
	}
	md := arrow.NewMetadata(keys, vals)
	schema := arrow.NewSchema(tbl.Schema().Fields(), &md)
	tr := array.NewTableReader(tbl, readBatchRows)
	defer tr.Release()
	var recs []arrow.RecordBatch
	for tr.Next() {
		rec := tr.RecordBatch()
		recs = append(recs, array.NewRecordBatch(schema, rec.Columns(), rec.NumRows()))
	}
	if err := tr.Err(); err != nil {
		releaseAll(recs)
		return nil, nil, err
	}
	return schema, recs, nil
}
