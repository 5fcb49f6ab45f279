package vmafs.vma.testing;

import static vmafs.vma.VmaFormat.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import vmafs.vma.ExtentHeader;
import vmafs.vma.VmaHeader;

/**
 * The bytes of an archive, with the means to break exactly one field: patch it at its offset,
 * then {@link #rehashHeader()} or {@link #rehashExtent(long)} so the MD5 still matches and the
 * reader gets as far as the broken field (otherwise every defect reads as "md5 mismatch").
 *
 * <p>Offsets are archive offsets; every integer is big-endian, as in the format, except blob
 * lengths (see {@link #appendBlob}).
 */
public final class ArchiveBytes {
  private byte[] b;

  public ArchiveBytes(byte[] bytes) {
    this.b = bytes.clone();
  }

  public static ArchiveBytes read(Path p) throws IOException {
    return new ArchiveBytes(Files.readAllBytes(p));
  }

  public ArchiveBytes copy() {
    return new ArchiveBytes(b);
  }

  public byte[] bytes() {
    return b.clone();
  }

  public int length() {
    return b.length;
  }

  public Path writeTo(Path p) throws IOException {
    Files.write(p, b);
    return p;
  }

  // ---- reading fields ----

  public long u16(long off) {
    return ByteBuffer.wrap(b).getShort((int) off) & 0xFFFF;
  }

  public long u32(long off) {
    return ByteBuffer.wrap(b).getInt((int) off) & 0xFFFF_FFFFL;
  }

  public long u64(long off) {
    return ByteBuffer.wrap(b).getLong((int) off);
  }

  public int headerSize() {
    return (int) u32(OFF_HEADER_SIZE);
  }

  public int blobBufferOffset() {
    return (int) u32(OFF_BLOB_BUFFER_OFFSET);
  }

  public int blobBufferSize() {
    return (int) u32(OFF_BLOB_BUFFER_SIZE);
  }

  /** File offset of the blob a pointer names (its 2-byte length prefix). */
  public long blobAt(long pointer) {
    return blobBufferOffset() + pointer;
  }

  public long configNamePointer(int slot) {
    return u32(OFF_CONFIG_NAMES + 4L * slot);
  }

  public long configDataPointer(int slot) {
    return u32(OFF_CONFIG_DATA + 4L * slot);
  }

  /** Offset of dev_info[devId]. */
  public static long devInfoAt(int devId) {
    return OFF_DEV_INFO + (long) devId * DEV_INFO_SIZE;
  }

  public long deviceNamePointer(int devId) {
    return u32(devInfoAt(devId) + DEV_OFF_NAME_PTR);
  }

  /** Offsets of every extent header, found by walking block_count from the end of the header. */
  public List<Long> extentOffsets() {
    List<Long> out = new ArrayList<>();
    long at = headerSize();
    while (at + EXTENT_HEADER_SIZE <= b.length) {
      out.add(at);
      at += EXTENT_HEADER_SIZE + u16(at + EXT_OFF_BLOCK_COUNT) * BLOCK_SIZE;
    }
    return out;
  }

  public long extentAt(int index) {
    return extentOffsets().get(index);
  }

  public long lastExtentAt() {
    List<Long> all = extentOffsets();
    return all.get(all.size() - 1);
  }

  /** Offset of blockinfo slot {@code slot} of the extent at {@code extentOffset}. */
  public static long blockInfoAt(long extentOffset, int slot) {
    return extentOffset + EXT_OFF_BLOCKINFO + (long) slot * BLOCKINFO_SIZE;
  }

  // ---- patching ----

  public ArchiveBytes putU8(long off, int v) {
    b[(int) off] = (byte) v;
    return this;
  }

  public ArchiveBytes putU16(long off, int v) {
    ByteBuffer.wrap(b).putShort((int) off, (short) v);
    return this;
  }

  public ArchiveBytes putU32(long off, long v) {
    ByteBuffer.wrap(b).putInt((int) off, (int) v);
    return this;
  }

  public ArchiveBytes putU64(long off, long v) {
    ByteBuffer.wrap(b).putLong((int) off, v);
    return this;
  }

  public ArchiveBytes putBytes(long off, byte[] v) {
    System.arraycopy(v, 0, b, (int) off, v.length);
    return this;
  }

  /** Flips every bit of one byte. */
  public ArchiveBytes flip(long off) {
    b[(int) off] ^= (byte) 0xFF;
    return this;
  }

  /** Recomputes the header MD5 over [0, header_size) as the header now says. */
  public ArchiveBytes rehashHeader() {
    byte[] header = Arrays.copyOf(b, headerSize());
    return putBytes(OFF_HEADER_MD5, VmaHeader.headerMd5(header));
  }

  /** Recomputes the MD5 of the extent header at {@code extentOffset}. */
  public ArchiveBytes rehashExtent(long extentOffset) {
    return putBytes(extentOffset + EXT_OFF_MD5, ExtentHeader.md5(b, (int) extentOffset));
  }

  public ArchiveBytes truncate(long length) {
    b = Arrays.copyOf(b, (int) length);
    return this;
  }

  public ArchiveBytes append(byte[] more) {
    int at = b.length;
    b = Arrays.copyOf(b, at + more.length);
    System.arraycopy(more, 0, b, at, more.length);
    return this;
  }

  /**
   * Appends a blob after the last one in use, in the slack the writer leaves before header_size,
   * and grows blob_buffer_size to cover it; the caller points a field at the returned pointer and
   * rehashes. Lets a test craft names the writer refuses ("../evil", "") without moving anything.
   */
  public long appendBlob(byte[] content) {
    long pointer = blobBufferSize();
    long at = blobAt(pointer);
    if (at + 2 + content.length > headerSize()) {
      throw new IllegalStateException("no slack for a " + content.length + "-byte blob; add a config to grow the header");
    }
    putU8(at, content.length & 0xFF).putU8(at + 1, content.length >>> 8); // little-endian length
    putBytes(at + 2, content);
    putU32(OFF_BLOB_BUFFER_SIZE, pointer + 2 + content.length);
    return pointer;
  }

  /** A NUL-terminated string blob body, as the format stores names. */
  public static byte[] cString(String s) {
    byte[] raw = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    return Arrays.copyOf(raw, raw.length + 1);
  }
}
