package vmafs.vma.index;

import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.Objects;

/**
 * A named section of the saved index: bytes that their owner (a compressed format's map of the
 * archive) writes and reads, and the index file only stores. Sections are streamed in when the
 * index is written and memory-mapped, in pieces of at most {@link #MAP_PIECE} bytes, when it is
 * loaded, so a section can hold many GiB (the restart prefixes of a large archive) without ever
 * existing as one heap array.
 *
 * <p>Each section is checksummed. A section saved with {@link Check#ON_LOAD} is verified whenever
 * the index is loaded (damage means the index is rebuilt). A large section whose owner verifies
 * every piece it uses ({@link Check#BY_READER}: e.g. each stored prefix is a zstd frame with its
 * own checksum) is not read at load, so that a remount costs milliseconds, not a pass over GiB;
 * its damage surfaces as an error on the reads that need the damaged piece.
 */
public final class IndexSection {
  /** Largest single mapping; a section longer than this is mapped in several pieces. */
  static final long MAP_PIECE = 1L << 30;

  private final ByteBuffer[] pieces;
  private final long pieceSize;
  private final long length;
  private final Check check;

  /** Who verifies a saved section's checksum. */
  public enum Check {
    /** The index file, every time it is loaded. */
    ON_LOAD,
    /** The section's owner, piece by piece as it reads them. */
    BY_READER
  }

  /** Produces a section's bytes when the index is written. */
  @FunctionalInterface
  public interface Content {
    void writeTo(OutputStream out) throws IOException;
  }

  /** A section to be saved: how to produce its bytes and who will verify them. */
  public record ToSave(Content content, Check check) {
    public ToSave {
      Objects.requireNonNull(content, "content");
      Objects.requireNonNull(check, "check");
    }

    public static ToSave checkedOnLoad(Content content) {
      return new ToSave(content, Check.ON_LOAD);
    }

    public static ToSave checkedByReader(Content content) {
      return new ToSave(content, Check.BY_READER);
    }

    /** Bytes already in memory (small sections, tests), checked on load. */
    public static ToSave of(byte[] bytes) {
      byte[] b = bytes.clone();
      return checkedOnLoad(out -> out.write(b));
    }
  }

  private IndexSection(ByteBuffer[] pieces, long pieceSize, long length, Check check) {
    this.pieces = pieces;
    this.pieceSize = pieceSize;
    this.length = length;
    this.check = check;
  }

  /** A section over bytes already in memory (tests, and maps that were never saved). */
  public static IndexSection of(ByteBuffer bytes) {
    return of(bytes, Check.ON_LOAD);
  }

  /** As {@link #of(ByteBuffer)}, saying who is to check the bytes. */
  public static IndexSection of(ByteBuffer bytes, Check check) {
    ByteBuffer b = bytes.slice();
    return new IndexSection(new ByteBuffer[] {b}, Math.max(1, b.remaining()), b.remaining(),
        Objects.requireNonNull(check, "check"));
  }

  /** Maps {@code length} bytes at {@code offset} of {@code ch}, read-only. */
  static IndexSection map(FileChannel ch, long offset, long length, Check check)
      throws IOException {
    return map(ch, offset, length, check, MAP_PIECE);
  }

  /** As {@link #map(FileChannel, long, long, Check)} in pieces of {@code pieceSize} (tests). */
  static IndexSection map(FileChannel ch, long offset, long length, Check check, long pieceSize)
      throws IOException {
    int n = (int) ((length + pieceSize - 1) / pieceSize);
    ByteBuffer[] pieces = new ByteBuffer[Math.max(n, 1)];
    pieces[0] = ByteBuffer.allocate(0); // an empty section
    for (int i = 0; i < n; i++) {
      long from = i * pieceSize;
      pieces[i] = ch.map(FileChannel.MapMode.READ_ONLY, offset + from,
          Math.min(pieceSize, length - from));
    }
    return new IndexSection(pieces, pieceSize, length, check);
  }

  public long length() {
    return length;
  }

  /**
   * Who verified, or is to verify, this section's bytes: a reader that relies on the index file
   * having checked them refuses a section saved as {@link Check#BY_READER}.
   */
  public Check check() {
    return check;
  }

  /**
   * The whole section as one read-only buffer (position 0, limit its length), for sections that
   * fit one: small maps are parsed from it in place.
   *
   * @throws IOException if the section is larger than one buffer can address
   */
  public ByteBuffer buffer() throws IOException {
    if (pieces.length != 1) {
      throw new IOException("index section of " + length + " bytes is too large for one buffer");
    }
    return pieces[0].duplicate().clear().asReadOnlyBuffer();
  }

  /**
   * Copies {@code dst.remaining()} bytes from {@code offset} into {@code dst}.
   *
   * @throws EOFException if the range runs past the section's end
   */
  public void read(long offset, ByteBuffer dst) throws IOException {
    if (offset < 0 || offset > length - dst.remaining()) {
      throw new EOFException("index section: " + dst.remaining() + " bytes at offset " + offset
          + " lie outside its " + length + " bytes");
    }
    long pos = offset;
    while (dst.hasRemaining()) {
      int i = (int) (pos / pieceSize);
      ByteBuffer piece = pieces[i];
      int at = (int) (pos - i * pieceSize);
      int n = Math.min(dst.remaining(), piece.capacity() - at);
      dst.put(piece.slice(at, n));
      pos += n;
    }
  }
}
