package vmafs.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import vmafs.nbd.ListenAddress;

/** The default socket's name: the archive's, unless that would not fit a socket path. */
class NbdCommandTest {
  @Test
  void theDefaultSocketIsNamedAfterTheArchive() {
    Path dir = Path.of("/run/vmafs");
    assertEquals(Path.of("/run/vmafs/vzdump-qemu-100-2026_11_22-12_00_00.vma.zst.sock"),
        NbdCommand.defaultSocket(dir, Path.of("/var/lib/vz/dump/vzdump-qemu-100-2026_11_22-12_00_00.vma.zst")));
  }

  @Test
  void aNameTooLongForASocketKeepsItsStartAndGetsAHash() {
    Path dir = Path.of("/tmp/" + "d".repeat(50) + "/run/vmafs");
    Path a = Path.of("/srv/a/vzdump-qemu-100-2026_11_22-12_00_00.vma.zst");
    Path b = Path.of("/srv/b/vzdump-qemu-100-2026_11_22-12_00_00.vma.zst");
    Path sa = NbdCommand.defaultSocket(dir, a);
    Path sb = NbdCommand.defaultSocket(dir, b);
    for (Path s : new Path[] {sa, sb}) {
      assertTrue(s.toString().getBytes(StandardCharsets.UTF_8).length <= ListenAddress.Unix.MAX_PATH_BYTES, s.toString());
      assertTrue(s.getFileName().toString().startsWith("vzdump-qemu-100-"), s.toString());
      assertTrue(s.toString().endsWith(".sock"));
      new ListenAddress.Unix(s); // accepted as an address
    }
    assertNotEquals(sa, sb, "with a hash, two archives of the same name get two sockets");
    CliException e = assertThrows(CliException.class,
        () -> NbdCommand.defaultSocket(Path.of("/" + "x".repeat(100)), a));
    assertEquals(ExitCodes.USAGE, e.exitCode());
    assertTrue(e.getMessage().contains("--listen"), e.getMessage());
  }
}
