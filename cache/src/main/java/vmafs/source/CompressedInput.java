package vmafs.source;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import vmafs.vma.io.Endian;

/**
 * Sequential, buffered view of the compressed file for a decode pass: knows its absolute offset
 * (for error messages and maps) and reports progress.
 */
final class CompressedInput {
  static final int BUFFER_SIZE = 1 << 20;

  private final FileChannel channel;
  private final String name;
  private final long fileSize;
  private final ProgressListener progress;
  private final byte[] buf = new byte[BUFFER_SIZE];
  /** File offset of {@code buf[0]}. */
  private long bufBase;
  private int pos;
  private int limit;

  CompressedInput(FileChannel channel, String name, long fileSize, ProgressListener progress) {
    this.channel = channel;
    this.name = name;
    this.fileSize = fileSize;
    this.progress = progress;
  }

  /** Absolute file offset of the next unread byte. */
  long offset() {
    return bufBase + pos;
  }

  long fileSize() {
    return fileSize;
  }

  String name() {
    return name;
  }

  byte[] buffer() {
    return buf;
  }

  int position() {
    return pos;
  }

  int limit() {
    return limit;
  }

  int available() {
    return limit - pos;
  }

  void skip(int n) {
    if (n < 0 || n > available()) {
      throw new IllegalArgumentException("skip " + n + " of " + available());
    }
    pos += n;
  }

  /**
   * Makes at least {@code min} bytes (at most the buffer size) available unless the file ends;
   * returns whether it could.
   */
  boolean ensure(int min) throws IOException {
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
      int n = channel.read(ByteBuffer.wrap(buf, limit, buf.length - limit), bufBase + limit);
      if (n < 0) {
        break;
      }
      limit += n;
    }
    progress.progress(Math.min(bufBase + limit, fileSize), fileSize);
    return available() >= min;
  }

  /** Skips {@code n} bytes, which may extend past the buffer; EOFException if the file is shorter. */
  void skipBytes(long n) throws IOException {
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
  boolean fill() throws IOException {
    return available() > 0 || ensure(1);
  }

  boolean atEof() throws IOException {
    return !fill();
  }

  /** Big-endian unsigned 32-bit integer, or an EOFException naming the offset. */
  long readU32BE() throws IOException {
    require(4);
    long v = Endian.be32Unsigned(buf, pos);
    pos += 4;
    return v;
  }

  int readU8() throws IOException {
    require(1);
    return buf[pos++] & 0xff;
  }

  int readU16BE() throws IOException {
    require(2);
    int v = Endian.be16(buf, pos);
    pos += 2;
    return v;
  }

  void require(int n) throws IOException {
    if (!ensure(n)) {
      throw new java.io.EOFException(name + ": truncated: file ends at compressed offset "
          + (bufBase + limit) + " where " + n + " more bytes were expected at offset " + offset());
    }
  }

  /** Copies {@code len} bytes, refilling as needed. */
  void readFully(byte[] dst, int off, int len) throws IOException {
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
