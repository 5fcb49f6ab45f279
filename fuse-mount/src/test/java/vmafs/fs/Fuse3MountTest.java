package vmafs.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import vmafs.fs.MountOptions.Backend;
import vmafs.fs.SyntheticSparseFile.Range;

class Fuse3MountTest extends MountTestBase {
  @Override
  Backend backend() {
    return Backend.FUSE3;
  }

  @Test
  void seekDataAndSeekHoleWalkTheDataRanges() {
    assertTrue(mount.supportsHoles());
    List<Range> walked = new ArrayList<>();
    try (LibcSeek f = new LibcSeek(mnt.resolve("drive-scsi0.raw").toString())) {
      long pos = 0;
      while (true) {
        long data = f.seek(pos, ReadOnlyFs.SEEK_DATA);
        if (data == -LibcSeek.ENXIO) {
          break;
        }
        long hole = f.seek(data, ReadOnlyFs.SEEK_HOLE);
        walked.add(new Range(data, hole));
        pos = hole;
      }
      assertEquals(DISK.data(), walked);
      assertEquals(GIB + 5, f.seek(GIB + 5, ReadOnlyFs.SEEK_DATA), "SEEK_DATA inside data");
      assertEquals(8 * GIB - 64 * KIB, f.seek(2 * GIB, ReadOnlyFs.SEEK_DATA), "SEEK_DATA in a hole");
      assertEquals(2 * GIB, f.seek(2 * GIB, ReadOnlyFs.SEEK_HOLE), "SEEK_HOLE in a hole");
      assertEquals(-LibcSeek.ENXIO, f.seek(16 * GIB, ReadOnlyFs.SEEK_HOLE), "SEEK_HOLE at EOF");
    }
  }
}
