package vmafs.vma.io;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Positional, thread-safe read access to the <em>uncompressed</em> byte stream of a VMA archive.
 *
 * <p>Every offset the extent index records is an offset into this stream, so the index and the
 * device images do not care whether the bytes come from a plain {@code .vma} file, from an lzop
 * block map, from gzip checkpoints, from a seekable zstd frame table or from a spill file.
 * Implementations must be safe for concurrent {@link #readFully} calls from many threads.
 */
public interface ArchiveSource extends Closeable {

  /**
   * Reads exactly {@code dst.remaining()} bytes of the stream starting at {@code position} into
   * {@code dst}, advancing its position. {@code dst} may be a direct buffer over native memory
   * (FUSE's reply buffer), so implementations should write into it directly.
   *
   * @throws java.io.EOFException when the range runs past the end of the stream (for example
   *     because the archive was truncated after it was indexed)
   * @throws IOException on any read or decompression failure; never returns wrong data
   */
  void readFully(long position, ByteBuffer dst) throws IOException;

  /** Length of the uncompressed stream in bytes. */
  long size() throws IOException;

  /** What to call this source in messages, usually the archive path. */
  String name();
}
