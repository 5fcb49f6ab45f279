package vmafs.vma.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Every read agrees with the JDK's ByteBuffer in the named order, at every alignment. */
class EndianTest {
  @Test
  void readsMatchByteBufferInTheNamedOrder() {
    byte[] b = new byte[64];
    new SplittableRandom(1).nextBytes(b);
    b[9] = (byte) 0xff; // high bits set somewhere
    ByteBuffer le = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer be = ByteBuffer.wrap(b).order(ByteOrder.BIG_ENDIAN);
    for (int at = 0; at + 8 <= b.length; at++) {
      assertEquals(le.getShort(at) & 0xffff, Endian.le16(b, at));
      assertEquals((le.getShort(at) & 0xffff) | (b[at + 2] & 0xff) << 16, Endian.le24(b, at));
      assertEquals(le.getInt(at), Endian.le32(b, at));
      assertEquals(le.getInt(at) & 0xffffffffL, Endian.le32Unsigned(b, at));
      assertEquals(le.getLong(at), Endian.le64(b, at));
      assertEquals(be.getShort(at) & 0xffff, Endian.be16(b, at));
      assertEquals(be.getInt(at), Endian.be32(b, at));
      assertEquals(be.getInt(at) & 0xffffffffL, Endian.be32Unsigned(b, at));
      assertEquals(be.getLong(at), Endian.be64(b, at));
      // A buffer is read little-endian whatever its own order, heap or direct.
      ByteBuffer direct = ByteBuffer.allocateDirect(b.length).put(b).order(ByteOrder.BIG_ENDIAN);
      assertEquals(le.getInt(at), Endian.le32(be, at));
      assertEquals(le.getInt(at), Endian.le32(direct, at));
      assertEquals(Endian.le24(b, at), Endian.le24(direct, at));
    }
  }

  @Test
  void knownValues() {
    byte[] b = {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd, 0, 0, 0, (byte) 0x80};
    assertEquals(0xFD2FB528, Endian.le32(b, 0)); // the zstd frame magic
    assertEquals(0x28b52ffdL, Endian.be32Unsigned(b, 0));
    assertEquals(0x8000_0000_FD2F_B528L, Endian.le64(b, 0));
    assertEquals(0x2fb528, Endian.le24(b, 0));
  }

  @Test
  void aFieldPastTheEndIsAnError() {
    assertThrows(IndexOutOfBoundsException.class, () -> Endian.le32(new byte[6], 3));
    assertThrows(IndexOutOfBoundsException.class, () -> Endian.be64(new byte[8], 1));
  }
}
