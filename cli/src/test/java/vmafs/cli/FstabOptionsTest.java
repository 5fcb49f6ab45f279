package vmafs.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;

/** What mount(8), mount.fuse3 and fstab lines hand to {@code vmafs mount -o}. */
class FstabOptionsTest {
  @Test
  void genericOptionsAreDroppedAndRestrictiveFlagsKept() {
    assertEquals(List.of("allow_other", "nosuid", "nodev", "noexec", "max_read=131072"), FstabOptions.forLibfuse(List.of(
        "ro", "allow_other", "nofail", "noauto", "user", "_netdev", "x-systemd.automount",
        "x-systemd.idle-timeout=60", "nosuid", "nodev", "noexec", "dev", "suid", "defaults", "comment=x",
        "max_read=131072")));
  }

  @Test
  void rwIsRefusedSayingWhatToDo() {
    CliException e = assertThrows(CliException.class, () -> FstabOptions.forLibfuse(List.of("rw", "dev", "suid")));
    assertEquals(ExitCodes.USAGE, e.exitCode());
    assertTrue(e.getMessage().contains("use -o ro"), e.getMessage());
  }

  @Test
  void mountPointNamesDropTheArchiveSuffix() {
    assertEquals("vzdump-qemu-100-2026_11_22-12_00_00",
        AutoMountpoint.name(java.nio.file.Path.of("/b/vzdump-qemu-100-2026_11_22-12_00_00.vma.zst")));
    assertEquals("x", AutoMountpoint.name(java.nio.file.Path.of("x.vma")));
    assertEquals("backup.mnt", AutoMountpoint.name(java.nio.file.Path.of("backup")));
    assertEquals(".vma.mnt", AutoMountpoint.name(java.nio.file.Path.of(".vma")));
  }
}
