package vmafs.fuse3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.junit.jupiter.api.Test;

/** Which ABI each libfuse version gets, and the one capability edit init() makes. */
class Fuse3AbiTest {
  @Test
  void versionsMapToTheirAbi() {
    assertNull(Fuse3Abi.of(3, 7), "3.7 has no lseek operation");
    assertEquals(Fuse3Abi.V3_1, Fuse3Abi.of(3, 8));
    assertEquals(Fuse3Abi.V3_1, Fuse3Abi.of(3, 14), "Debian 12");
    assertEquals(Fuse3Abi.V3_1, Fuse3Abi.of(3, 16));
    assertEquals(Fuse3Abi.V3_17, Fuse3Abi.of(3, 17), "Debian 13");
    assertEquals(Fuse3Abi.V3_17, Fuse3Abi.of(3, 18));
    assertEquals(Fuse3Abi.V3_17, Fuse3Abi.of(3, 40), "same soname, same ABI");
    assertNull(Fuse3Abi.of(2, 9));
    assertNull(Fuse3Abi.of(4, 0));
    assertEquals("libfuse3.so.3", Fuse3Abi.V3_1.soname);
    assertEquals("libfuse3.so.4", Fuse3Abi.V3_17.soname);
  }

  @Test
  void fuseVersionIsDecodedInBothEncodings() {
    assertArrayEquals(new int[] {2, 9}, Fuse3Abi.decodeVersion(29));
    assertArrayEquals(new int[] {3, 9}, Fuse3Abi.decodeVersion(39));
    assertArrayEquals(new int[] {3, 14}, Fuse3Abi.decodeVersion(314));
    assertArrayEquals(new int[] {3, 17}, Fuse3Abi.decodeVersion(317));
  }

  @Test
  void theConstructorIsTheOneEachVersionExportsByDefault() {
    assertEquals("FUSE_3.1", Fuse3Abi.V3_1.symbolVersions().get("fuse_new"));
    assertNull(Fuse3Abi.V3_1.symbolVersions().get("_fuse_new_31"));
    assertEquals("FUSE_3.17", Fuse3Abi.V3_17.symbolVersions().get("_fuse_new_31"));
    assertNull(Fuse3Abi.V3_17.symbolVersions().get("fuse_new"),
        "3.17 exports fuse_new only as non-default versions, which dlsym does not return");
    assertEquals("FUSE_3.0", Fuse3Abi.V3_17.symbolVersions().get("fuse_session_receive_buf"));
  }

  @Test
  void ioUringIsDeclinedInWantAndWantExtAlikeWhereTheyExist() {
    Pointer conn = Memory.allocateDirect(Runtime.getSystemRuntime(), 128, true);
    for (int i = 0; i < 128; i += 8) {
      conn.putLong(i, -1L);
    }
    Fuse3Abi.V3_1.declineIoUring(conn);
    for (int i = 0; i < 128; i += 8) {
      assertEquals(-1L, conn.getLong(i), "3.14 has no want_ext and no io_uring: nothing changes");
    }

    Fuse3Abi.V3_17.declineIoUring(conn);
    assertEquals(0x7FFF_FFFF, conn.getInt(Layout.CONN_WANT));
    assertEquals(0xFFFF_FFFF_7FFF_FFFFL, conn.getLong(56), "want_ext");
    for (int i = 0; i < 128; i += 4) {
      if (i != Layout.CONN_WANT && i != 56) {
        assertEquals(-1, conn.getInt(i), "byte " + i + " untouched");
      }
    }
  }
}
