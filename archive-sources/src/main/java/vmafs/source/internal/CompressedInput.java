package vmafs.source.internal;

import java.io.IOException;
import java.io.InputStream;
import vmafs.source.ProgressListener;
import vmafs.vma.io.Endian;
import vmafs.vma.io.StoredBytes;

/**
 * Sequential, buffered view of the compressed file for a decode pass: knows its absolute offset
 * (for error messages and maps) and reports progress. Reads through one {@link
 * StoredBytes#openSequential} stream (a remote object: one streaming request for the whole pass),
 * reopened only where a skip goes backwards, which no pass does.
 */
public final class CompressedInput {
  static final int BUFFER_SIZE = 1 << 20;

  private final StoredBytes stored;
  private InputStream stream;
  /** Archive offset of the next byte {@link #stream} returns. */
  private long streamPos;
  private final String name;
  private final long fileSize;
  private final ProgressListener progress;
  private final byte[] buf = new byte[BUFFER_SIZE];
  /** File offset of {@code buf[0]}. */
  private long bufBase;
  private int pos;
  private int limit;

  CompressedInput(StoredBytes stored, String name, long fileSize, ProgressListener progress) {
    this.stored = stored;
    this.name = name;
    this.fileSize = fileSize;
    this.progress = progress;
  }

  /** Absolute file offset of the next unread byte. */
  public long offset() {
    return bufBase + pos;
  }

  public long fileSize() {
    return fileSize;
  }

  public String name() {
    return name;
  }

  public byte[] buffer() {
    return buf;
  }

  public int position() {
    return pos;
  }

  int limit() {
    return limit;
  }

  public int available() {
    return limit - pos;
  }

  public void skip(int n) {
    if (n < 0 || n > available()) {
      throw new IllegalArgumentException("skip " + n + " of " + available());
    }
    pos += n;
  }

  /**
   * Makes at least {@code min} bytes (at most the buffer size) available unless the file ends;
   * returns whether it could.
   */
  public boolean ensure(int min) throws IOException {
    if (min > buf.length) {
      throw new IllegalArgumentException("cannot buffer " + min + " bytes");
    }
    if (available() >= min) {
      return true;
    }
    System.arraycopy(buf, pos, buf, 0, limit - pos);
    bufBase += pos;
    limit -= pos;
    pos = 0;
    while (limit < min) {
      int n = readAt(bufBase + limit, buf, limit, buf.length - limit);
      if (n < 0) {
        break;
      }
      limit += n;
    }
    progress.progress(Math.min(bufBase + limit, fileSize), fileSize);
    return available() >= min;
  }

  /** Reads from the sequential stream at archive offset {@code at}, skipping up to it first. */
  private int readAt(long at, byte[] b, int off, int len) throws IOException {
    if (stream == null || at < streamPos) {
      close();
      stream = stored.openSequential(Math.min(at, fileSize));
      streamPos = Math.min(at, fileSize);
    }
    while (streamPos < at) {
      long s = stream.skip(at - streamPos);
      if (s <= 0) {
        return -1; // past the end: the caller reports truncation
      }
      streamPos += s;
    }
    int n = stream.read(b, off, len);
    if (n > 0) {
      streamPos += n;
    }
    return n;
  }

  /** Ends the stream (a remote pass's request). */
  void close() throws IOException {
    InputStream s = stream;
    stream = null;
    if (s != null) {
      s.close();
    }
  }

  /** Skips {@code n} bytes, which may extend past the buffer; EOFException if the file is shorter. */
  public void skipBytes(long n) throws IOException {
    if (n <= available()) {
      pos += (int) n;
      return;
    }
    long target = offset() + n;
    if (target > fileSize) {
      throw new java.io.EOFException(name + ": truncated: file ends at compressed offset "
          + fileSize + " but data extends to " + target);
    }
    bufBase = target;
    pos = 0;
    limit = 0;
  }

  /** Refills if empty; returns false at end of file. */
  public boolean fill() throws IOException {
    return available() > 0 || ensure(1);
  }

  public boolean atEof() throws IOException {
    return !fill();
  }

  /** Big-endian unsigned 32-bit integer, or an EOFException naming the offset. */
  public long readU32BE() throws IOException {
    require(4);
    long v = Endian.be32Unsigned(buf, pos);
    pos += 4;
    return v;
  }

  public int readU8() throws IOException {
    require(1);
    return buf[pos++] & 0xff;
  }

  int readU16BE() throws IOException {
    require(2);
    int v = Endian.be16(buf, pos);
    pos += 2;
    return v;
  }

  public void require(int n) throws IOException {
    if (!ensure(n)) {
      throw new java.io.EOFException(name + ": truncated: file ends at compressed offset "
          + (bufBase + limit) + " where " + n + " more bytes were expected at offset " + offset());
    }
  }

  /** Copies {@code len} bytes, refilling as needed. */
  public void readFully(byte[] dst, int off, int len) throws IOException {
    while (len > 0) {
      require(1);
      int n = Math.min(len, available());
      System.arraycopy(buf, pos, dst, off, n);
      pos += n;
      off += n;
      len -= n;
    }
  }

  void finishProgress() {
    progress.progress(fileSize, fileSize);
  }
}
