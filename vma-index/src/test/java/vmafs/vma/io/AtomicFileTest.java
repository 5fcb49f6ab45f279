package vmafs.vma.io;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every file vmafs creates goes through AtomicFile: nothing planted is ever written through. */
class AtomicFileTest {
  @TempDir Path dir;

  private static List<String> names(Path d) throws IOException {
    try (Stream<Path> s = Files.list(d)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void aLinkPlantedAtTheFinalNameIsReplacedNotWrittenThrough() throws IOException {
    Path victim = Files.writeString(dir.resolve("victim"), "precious");
    Path target = dir.resolve("out");
    Files.createSymbolicLink(target, victim);
    try (AtomicFile f = AtomicFile.create(target, FileTrust.privatePermissions())) {
      f.channel().write(ByteBuffer.wrap("new".getBytes()));
      assertTrue(Files.isSymbolicLink(target), "the final name is untouched until commit");
      f.commit();
    }
    assertEquals("precious", Files.readString(victim));
    assertFalse(Files.isSymbolicLink(target));
    assertEquals("new", Files.readString(target));
    assertEquals(List.of("out", "victim"), names(dir), "no temporary left");
  }

  @Test
  void theTemporaryFileIsInAPrivateDirectoryAndGoneWithoutCommit() throws IOException {
    Path target = dir.resolve("out");
    Path tmp;
    try (AtomicFile f = AtomicFile.create(target, PosixFilePermissions.fromString("rw-r--r--"))) {
      tmp = f.temporary();
      assertEquals("rwx------", PosixFilePermissions.toString(
          Files.getPosixFilePermissions(tmp.getParent())), "nobody else can reach or swap it");
      assertNotEquals(dir, tmp.getParent());
      assertTrue(tmp.getParent().getFileName().toString().length() > ".out.".length() + 8,
          "an unguessable name");
      f.channel().write(ByteBuffer.wrap(new byte[10]));
    }
    assertFalse(Files.exists(tmp));
    assertEquals(List.of(), names(dir), "close without commit leaves nothing");
    assertFalse(Files.exists(target));
  }

  @Test
  void twoWritersOfOneNameNeverShareAFile() throws IOException {
    Path target = dir.resolve("out");
    try (AtomicFile a = AtomicFile.create(target, FileTrust.privatePermissions());
        AtomicFile b = AtomicFile.create(target, FileTrust.privatePermissions())) {
      assertNotEquals(a.temporary(), b.temporary());
      a.channel().write(ByteBuffer.wrap("a".getBytes()));
      b.channel().write(ByteBuffer.wrap("bb".getBytes()));
      a.commit();
      b.commit();
    }
    assertEquals("bb", Files.readString(target), "the last commit wins, whole");
  }

  /** A writer killed before commit leaves its private directory; the next writer can remove it. */
  @Test
  void whatAKilledWriterLeftIsRemovedAndNothingElse() throws IOException {
    Path target = dir.resolve("out");
    AtomicFile abandoned = AtomicFile.create(target, FileTrust.privatePermissions()); // never closed
    abandoned.channel().write(ByteBuffer.wrap(new byte[4096]));
    Path other = AtomicFile.create(dir.resolve("out.spill"), FileTrust.privatePermissions()).temporary();
    Path foreign = Files.createDirectories(dir.resolve(".out.123/something-else"));
    Files.writeString(dir.resolve("out"), "committed");
    AtomicFile.removeAbandoned(target);
    abandoned.channel().close();
    assertFalse(Files.exists(abandoned.temporary().getParent()), "the killed writer's directory");
    assertTrue(Files.exists(other), "another target's temporary");
    assertTrue(Files.exists(foreign), "a directory holding something else");
    assertEquals("committed", Files.readString(target));
  }

  @Test
  void extendToMakesOneHoleOfTheFullSize() throws Exception {
    Path target = dir.resolve("img");
    try (AtomicFile f = AtomicFile.create(target, FileTrust.privatePermissions())) {
      f.extendTo(1L << 34);
      f.commit();
    }
    assertEquals(1L << 34, Files.size(target));
    Process p = new ProcessBuilder("stat", "-c", "%b", target.toString()).start();
    assertEquals(0, Long.parseLong(new String(p.getInputStream().readAllBytes()).trim()),
        "nothing allocated");
  }

  @Test
  void permissionsAreApplied() throws IOException {
    Path target = dir.resolve("private");
    try (AtomicFile f = AtomicFile.create(target, FileTrust.privatePermissions())) {
      f.commit();
    }
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(target,
        LinkOption.NOFOLLOW_LINKS)));
  }
}
