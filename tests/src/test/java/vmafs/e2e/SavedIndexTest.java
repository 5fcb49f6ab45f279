package vmafs.e2e;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A damaged saved index is reported and rebuilt, never trusted; a good one is reused. */
class SavedIndexTest {
  @TempDir Path dir;

  @Test
  void aCorruptSavedIndexIsRebuiltWithAWarning() throws IOException {
    Path disk = Images.sparse(dir.resolve("d.raw"), 40L << 20, 10, 3);
    Path archive = dir.resolve("a.vma");
    Run.vmafs("create", "--order", "shuffled", archive.toString(), "drive-scsi0=" + disk).ok();
    Path index = Path.of(archive + ".vmafs-index");

    assertEquals(index + "\n", Run.vmafs("index", archive.toString()).ok().out());
    assertTrue(Run.vmafs("index", archive.toString()).ok().out().contains("already up to date"));

    try (RandomAccessFile f = new RandomAccessFile(index.toFile(), "rw")) {
      f.seek(4096 + 40); // inside the cluster table
      f.write(0x7f);
    }
    Run.Result r = Run.vmafs("index", archive.toString()).ok();
    assertTrue(r.err().contains("is not usable") && r.err().contains("corrupt"), r.err());
    assertFalse(r.out().contains("already up to date"));
    assertTrue(Run.vmafs("index", archive.toString()).ok().out().contains("already up to date"));

    // And the rebuilt index serves the right bytes.
    try (Mounted m = Mounted.mount(archive, dir.resolve("mnt"))) {
      assertEquals(Images.sha256(disk), Images.sha256(m.file("disk-drive-scsi0.raw")));
    }

    Files.writeString(index, "garbage");
    assertTrue(Run.vmafs("index", archive.toString()).ok().err().contains("is not usable"));
  }
}
