// Package arrowio writes and reads the events table as files: Arrow IPC
// (the "file" format, also known as Feather v2) or Parquet, chosen by the
// output's extension.
//
// Writing tables out is a concern of its own, shared by "irqtrace convert"
// and later exports: the choice of container, compression and row-group
// size, the guarantee that a failed write never leaves a partial file under
// the final name, and the reading back used by tests. It knows nothing of
// trace formats or of the events schema; it takes any Arrow schema and
// record batches. It sits beside the pipeline:
//
//	parse -> ftrace.Table (schema + record batches) -> arrowio.WriteFile
//
// Files are written for readers other than irqtrace: pyarrow, DuckDB,
// Spark, polars. Hence Arrow IPC is written uncompressed (body compression
// is optional in the Arrow spec and several readers, such as Arrow JS and
// older DuckDB and nanoarrow builds, reject it), while Parquet uses zstd,
// which every current Parquet reader supports. Dictionary-encoded columns
// stay dictionary-encoded in both formats; Parquet files carry the Arrow
// schema (key "ARROW:schema") so that Arrow readers get the exact column
// types, dictionaries and schema metadata back.
//
// References: the Arrow columnar format and IPC file format,
// https://arrow.apache.org/docs/format/Columnar.html; the Parquet format,
// https://parquet.apache.org/docs/file-format/.
package arrowio
