package vmafs.source;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import vmafs.source.gzip.GzipDecodePass;
import vmafs.source.lzop.LzopDecodePass;
import vmafs.source.raw.RawDecodePass;
import vmafs.source.zstd.ZstdDecodePass;
import vmafs.vma.io.LocalStoredBytes;
import vmafs.vma.io.StoredBytes;

/**
 * One sequential pass over an archive: {@link #stream()} yields the decompressed VMA stream (the
 * caller parses it to build the VMA index), and as a side effect the pass records what random
 * access needs later. At the end of the stream the format's checksums are verified and trailing
 * garbage or truncation is rejected, so {@link #finish()} only ever returns a map of an archive
 * that decoded cleanly.
 *
 * <pre>{@code
 * try (DecodePass pass = DecodePass.open(archive, DecodeOptions.defaults().withSpillFile(spill))) {
 *   buildVmaIndex(pass.stream());        // may call pass.expectUncompressedAtMost(bound)
 *   SourceMap map = pass.finish();       // persist map.toBytes() next to the VMA index
 * }
 * ArchiveSource src = map.open(archive, blockCache);
 * }</pre>
 *
 * Not thread-safe: one thread reads the stream.
 */
public interface DecodePass extends Closeable {

  /** Starts a pass over {@code archive}, picking the decoder from its magic bytes. */
  /**
   * Loads what decoding an archive named {@code fileName} needs that takes long to load the first
   * time: zstd-jni's native library (unpacked from its jar, then linked: tens of ms, more on a busy
   * machine). A server calls it on a second thread while its first reads the archive's identity,
   * so that the pass does not wait for it. Failures are left to the pass to report.
   */
  static void preload(String fileName) {
    if (fileName.endsWith(".zst")) {
      try {
        com.github.luben.zstd.util.Native.load();
      } catch (RuntimeException | LinkageError e) {
        // the pass reports it
      }
    }
  }

  static DecodePass open(Path archive, DecodeOptions options) throws IOException {
    LocalStoredBytes stored = LocalStoredBytes.open(archive);
    try {
      return open(stored, true, options);
    } catch (IOException | RuntimeException e) {
      stored.close();
      throw e;
    }
  }

  /** As {@link #open(Path, DecodeOptions)} over the stored archive, which the pass does not close. */
  static DecodePass open(StoredBytes archive, DecodeOptions options) throws IOException {
    return open(archive, false, options);
  }

  private static DecodePass open(StoredBytes archive, boolean owns, DecodeOptions options)
      throws IOException {
    return switch (ArchiveFormat.detect(archive)) {
      case RAW_VMA -> new RawDecodePass(archive, owns, options);
      case LZOP -> new LzopDecodePass(archive, owns, options);
      case GZIP -> new GzipDecodePass(archive, owns, options);
      case ZSTD -> ZstdDecodePass.open(archive, owns, options);
    };
  }

  ArchiveFormat format();

  /** The decompressed stream. It throws {@link IOException} naming a compressed offset on bad data. */
  InputStream stream();

  /** Whether this pass is writing a spill file (known at the start, except for gzip). */
  boolean isSpilling();

  /**
   * Tells the pass the decompressed stream will be at most {@code bytes} long (the sum of the VMA
   * device sizes plus headers), so that a spill that cannot fit fails now instead of near the end.
   * A no-op when nothing spills; remembered in case a gzip pass starts spilling later.
   */
  void expectUncompressedAtMost(long bytes) throws IOException;

  /**
   * Reads whatever the caller left of the stream, verifies the end of the archive, completes the
   * spill file if any, and returns the map.
   */
  SourceMap finish() throws IOException;

  /**
   * The stream as far as this pass has decoded it, for reads while it runs ({@link LiveSource});
   * call before reading {@link #stream()}. Reads of what no published prefix covers wait for the
   * end of the pass (then {@link LiveSource#finish} or {@link LiveSource#fail} is the caller's).
   * The pass keeps its last {@link LiveSource#RECENT_OUTPUT_BYTES} of output for those reads.
   */
  default LiveSource live(vmafs.cache.BlockCache cache) throws IOException {
    return live(cache, LiveSource.RECENT_OUTPUT_BYTES);
  }

  /** As {@link #live(vmafs.cache.BlockCache)}, keeping {@code recentBytes} (a power of two). */
  LiveSource live(vmafs.cache.BlockCache cache, int recentBytes) throws IOException;

  /** Abandons the pass; an unfinished spill file is deleted. */
  @Override
  void close() throws IOException;
}
