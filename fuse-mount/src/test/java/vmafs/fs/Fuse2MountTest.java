package vmafs.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import org.junit.jupiter.api.Test;
import vmafs.fs.MountOptions.Backend;

class Fuse2MountTest extends MountTestBase {
  @Override
  Backend backend() {
    return Backend.FUSE2;
  }

  /** libfuse2 has no lseek operation: the kernel treats the whole file as data. */
  @Test
  void holesAreInvisibleToSeek() {
    assertFalse(mount.supportsHoles());
    try (LibcSeek f = new LibcSeek(mnt.resolve("drive-scsi0.raw").toString())) {
      assertEquals(2 * GIB, f.seek(2 * GIB, ReadOnlyFs.SEEK_DATA));
      assertEquals(16 * GIB, f.seek(0, ReadOnlyFs.SEEK_HOLE));
    }
  }
}
