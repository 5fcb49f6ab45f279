/**
 * Random access into the decompressed stream of {@code .vma}, {@code .vma.zst}, {@code .vma.lzo}
 * and {@code .vma.gz} archives.
 *
 * <ol>
 *   <li>{@link vmafs.source.DecodePass#open} detects the format ({@link
 *       vmafs.source.ArchiveFormat#detect}) and yields the decompressed stream for building the
 *       VMA index; {@link vmafs.source.DecodePass#finish} verifies the archive's checksums and
 *       returns a {@link vmafs.source.SourceMap}.
 *   <li>{@link vmafs.source.SourceMap#toBytes} / {@link vmafs.source.SourceMap#fromBytes} persist
 *       the map inside the index file.
 *   <li>{@link vmafs.source.SourceMap#open} gives the thread-safe {@link
 *       vmafs.vma.io.ArchiveSource}, decoding blocks through a shared {@link
 *       vmafs.cache.BlockCache}.
 * </ol>
 *
 * Seekable zstd archives need no decode pass for random access: {@link
 * vmafs.source.zstd.ZstdFrameMap#fromSeekTable}; {@link vmafs.source.zstd.SeekableZstdWriter} writes them.
 */
package vmafs.source;
