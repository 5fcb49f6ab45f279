package vmafs.vma.io;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ssh's StrictModes rule for saved indexes and spills. */
class FileTrustTest {
  @TempDir Path dir;

  /** Gives {@code p} to the unprivileged uid 65534 (tests run as root). */
  static void giveToNobody(Path p) throws IOException {
    UserPrincipal nobody = p.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("65534");
    Files.setOwner(p, nobody);
  }

  @Test
  void aPrivateDirectoryAndFileOfOurOwnAreTrusted() throws IOException {
    Path d = Files.createDirectory(dir.resolve("d"), PosixFilePermissions.asFileAttribute(
        PosixFilePermissions.fromString("rwxr-xr-x")));
    Path f = Files.writeString(d.resolve("idx"), "x");
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
    assertNull(FileTrust.untrusted(f));
  }

  @Test
  void aDirectoryOthersMayWriteToIsNotTrustedEvenWithTheStickyBit() throws Exception {
    Path d = Files.createDirectory(dir.resolve("shared"));
    Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxrwxr-x"));
    assertTrue(FileTrust.untrustedDirectory(d).contains("writable by other users"));
    assertEquals(0, new ProcessBuilder("chmod", "1777", d.toString()).start().waitFor());
    assertNotNull(FileTrust.untrustedDirectory(d), "like /tmp itself: others can plant files there");
    // ...but a private directory below a sticky one is fine: nobody can rename it away.
    Path mine = Files.createDirectory(d.resolve("mine"));
    Files.setPosixFilePermissions(mine, PosixFilePermissions.fromString("rwx------"));
    assertNull(FileTrust.untrustedDirectory(mine));
  }

  @Test
  void aDirectoryAboveThatOthersMayWriteToIsNotTrusted() throws IOException {
    Path open = Files.createDirectory(dir.resolve("open"));
    Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
    Path below = Files.createDirectory(open.resolve("below"));
    Files.setPosixFilePermissions(below, PosixFilePermissions.fromString("rwx------"));
    String why = FileTrust.untrustedDirectory(below);
    assertNotNull(why, "another user could rename 'below' away and put their own in its place");
    assertTrue(why.contains(open.toString()), why);
  }

  @Test
  void filesAndDirectoriesOfAnotherUserAreNotTrusted() throws IOException {
    assumeTrue(FileTrust.uid() == 0, "needs root to give files away");
    Path d = Files.createDirectory(dir.resolve("theirs"));
    Path f = Files.writeString(dir.resolve("idx"), "x");
    giveToNobody(d);
    giveToNobody(f);
    assertTrue(FileTrust.untrustedDirectory(d).contains("owned by uid 65534"));
    assertTrue(FileTrust.untrustedFile(f).contains("owned by uid 65534"));
  }

  @Test
  void aGroupWritableFileALinkAndAFifoAreNotTrusted() throws Exception {
    Path f = Files.writeString(dir.resolve("idx"), "x");
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-rw-r--"));
    assertTrue(FileTrust.untrustedFile(f).contains("writable by other users"));
    Path link = Files.createSymbolicLink(dir.resolve("link"), f);
    assertTrue(FileTrust.untrustedFile(link).contains("symbolic link"));
    Path fifo = dir.resolve("fifo");
    assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
    assertTrue(FileTrust.untrustedFile(fifo).contains("not a regular file"));
  }

  @Test
  void derivedFilesAreNeverMoreReadableThanTheArchiveNorWritableByOthers() throws IOException {
    Path a = Files.writeString(dir.resolve("a.vma"), "x");
    for (String[] c : new String[][] {{"rw-------", "rw-------"}, {"rw-r-----", "rw-r-----"},
        {"rw-rw-rw-", "rw-r--r--"}, {"r--r--r--", "rw-r--r--"}}) {
      Files.setPosixFilePermissions(a, PosixFilePermissions.fromString(c[0]));
      assertEquals(c[1], PosixFilePermissions.toString(FileTrust.derivedPermissions(a)), c[0]);
    }
  }
}
