package vmafs.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class MountTableTest {
  @Test
  void parsesAFuseLineWithOptionalFieldsAndAnEscapedPath() {
    MountTable.Mount m = MountTable.parse("57 29 0:39 / /mnt/vm\\040backups rw,nosuid,nodev"
        + " shared:1 master:2 - fuse.vmafs /backups/a\\040b.vma ro,user_id=0,group_id=0");
    assertEquals(new MountTable.Mount("0:39", Path.of("/mnt/vm backups"), "fuse.vmafs", "/backups/a b.vma"), m);
    assertTrue(m.isFuse());
  }

  @Test
  void otherFilesystemsAreNotFuse() {
    assertFalse(MountTable.parse("22 1 8:1 / / rw - ext4 /dev/vda rw").isFuse());
    assertFalse(MountTable.parse("23 1 0:40 / /x rw - fuseblk /dev/sdb1 rw").isFuse());
  }

  @Test
  void unescapesOctalAndKeepsUtf8() {
    assertEquals("a\tb\\c ä", MountTable.unescape("a\\011b\\134c\\040ä".replace("ä", "\u00c3\u00a4")));
  }

  @Test
  void commasInTheSourceAreEscapedForLibfuse() {
    assertEquals("a\\,b\\\\c", MountArgs.escape("a,b\\c"));
  }
}
