package vmafs.source;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import vmafs.cache.BlockCache;
import vmafs.vma.io.ArchiveSource;

/**
 * What random access into one archive needs, as learned by its {@link DecodePass}: an lzop block
 * map, gzip checkpoints, a zstd frame table, or the location of a spill file. Persist it with
 * {@link #toBytes()} (the index file keeps it as an opaque section) and turn it back into a source
 * with {@link #fromBytes} and {@link #open}.
 */
public sealed interface SourceMap permits RawMap, SpillMap, LzopMap, GzipMap, ZstdFrameMap {

  ArchiveFormat format();

  /** Length of the decompressed (VMA) stream. */
  long uncompressedSize();

  /** Length of the archive file this map was made from; {@link #open} refuses any other size. */
  long archiveSize();

  /**
   * Whether reads go to the archive itself. False when (part of) the stream is served from a spill
   * file, which then has to exist for {@link #open} to work.
   */
  default boolean isRandomAccessible() {
    return true;
  }

  /**
   * A thread-safe source over the decompressed stream. Decoded blocks go through {@code cache};
   * sources that read a plain file (raw VMA, spill) do not use it.
   */
  ArchiveSource open(Path archive, BlockCache cache) throws IOException;

  /** Versioned, compact serialization; see {@link MapCodec}. */
  byte[] toBytes();

  /**
   * Reads a map written by {@link #toBytes()}. Large payloads (gzip windows) stay in {@code in}
   * and are read from it on demand, so a memory-mapped buffer is not copied onto the heap; the
   * buffer must therefore stay valid and unmodified while the map is in use.
   */
  static SourceMap fromBytes(ByteBuffer in) throws IOException {
    return MapCodec.read(in, null);
  }

  /**
   * As {@link #fromBytes(ByteBuffer)} for a map whose stream may live (in part) in a spill file:
   * {@code spill} is where it is. The map itself names no file, so whoever can write a map cannot
   * point its reader at one.
   */
  static SourceMap fromBytes(ByteBuffer in, Path spill) throws IOException {
    return MapCodec.read(in, spill);
  }
}
