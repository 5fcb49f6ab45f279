package vmafs.vma.io;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Fixed-width integer fields read out of bytes, in the byte order the format stores them (VMA
 * and lzop: big-endian; zstd, gzip, the seek table and XXH64: little-endian). One place for
 * every multi-byte read of the formats' parsers; a {@link ByteBuffer} is read at an absolute
 * index and in the order named here, whatever its own {@link ByteBuffer#order()} says.
 *
 * <p>{@code le32}/{@code be32} return the field's bits as an {@code int} (magics, CRCs, which are
 * compared as such); the {@code Unsigned} forms return the value of an unsigned field (sizes,
 * offsets). 64-bit fields come back as stored: a value of 2^63 or more is negative and fails
 * every range check.
 */
public final class Endian {
  private static final VarHandle LE16 = array(short[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle LE32 = array(int[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle LE64 = array(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle BE16 = array(short[].class, ByteOrder.BIG_ENDIAN);
  private static final VarHandle BE32 = array(int[].class, ByteOrder.BIG_ENDIAN);
  private static final VarHandle BE64 = array(long[].class, ByteOrder.BIG_ENDIAN);
  private static final VarHandle BUF_LE16 = buffer(short[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle BUF_LE32 = buffer(int[].class, ByteOrder.LITTLE_ENDIAN);

  private Endian() {}

  private static VarHandle array(Class<?> view, ByteOrder order) {
    return MethodHandles.byteArrayViewVarHandle(view, order);
  }

  private static VarHandle buffer(Class<?> view, ByteOrder order) {
    return MethodHandles.byteBufferViewVarHandle(view, order);
  }

  /** Unsigned 16-bit little-endian field. */
  public static int le16(byte[] b, int at) {
    return (short) LE16.get(b, at) & 0xffff;
  }

  /** Unsigned 24-bit little-endian field (a zstd block header). */
  public static int le24(byte[] b, int at) {
    return le16(b, at) | (b[at + 2] & 0xff) << 16;
  }

  public static int le32(byte[] b, int at) {
    return (int) LE32.get(b, at);
  }

  public static long le32Unsigned(byte[] b, int at) {
    return Integer.toUnsignedLong(le32(b, at));
  }

  public static long le64(byte[] b, int at) {
    return (long) LE64.get(b, at);
  }

  /** Unsigned 16-bit big-endian field. */
  public static int be16(byte[] b, int at) {
    return (short) BE16.get(b, at) & 0xffff;
  }

  public static int be32(byte[] b, int at) {
    return (int) BE32.get(b, at);
  }

  public static long be32Unsigned(byte[] b, int at) {
    return Integer.toUnsignedLong(be32(b, at));
  }

  public static long be64(byte[] b, int at) {
    return (long) BE64.get(b, at);
  }

  /** Unsigned 24-bit little-endian field at absolute index {@code at}. */
  public static int le24(ByteBuffer b, int at) {
    return (short) BUF_LE16.get(b, at) & 0xffff | (b.get(at + 2) & 0xff) << 16;
  }

  /** 32-bit little-endian field at absolute index {@code at}. */
  public static int le32(ByteBuffer b, int at) {
    return (int) BUF_LE32.get(b, at);
  }
}
