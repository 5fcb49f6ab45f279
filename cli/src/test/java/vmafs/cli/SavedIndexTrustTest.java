package vmafs.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import vmafs.vma.ConfigBlob;
import vmafs.vma.VmaHeader;
import vmafs.vma.index.ArchiveIdentity;
import vmafs.vma.index.ExtentIndex;
import vmafs.vma.index.ForgedIndex;
import vmafs.vma.index.IndexFile;
import vmafs.vma.testing.Sources;
import vmafs.vma.testing.VmaArchiveBuilder;

/**
 * A saved index is believed only when nobody else could have written it (issue #13): anyone who
 * can read an archive can forge a valid-looking index for it, so ownership, the directory and the
 * archive's own header are checked on every open.
 */
class SavedIndexTrustTest {
  static final byte[] CONF = "memory: 1024\n".getBytes();
  @TempDir Path dir;
  /** Outside {@link #dir}, which some tests open to everybody. */
  @TempDir Path home;
  Path archive;
  Path index;
  byte[] disk;

  @BeforeEach
  void archive() throws IOException {
    disk = Sources.mixed(65536 * 6 + 4096, 3);
    archive = VmaArchiveBuilder.archive().config("qemu-server.conf", CONF).device("drive-scsi0", disk)
        .build().writeTo(dir.resolve("a.vma"));
    index = dir.resolve("a.vma.vmafs-index");
  }

  private static void giveToNobody(Path p) throws IOException {
    UserPrincipal nobody = p.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("65534");
    Files.setOwner(p, nobody);
  }

  /** The saved index with clusters 0 and 1 swapped: right identity, right CRCs, wrong bytes. */
  private void forgeSwappedIndex() throws IOException {
    ExtentIndex real = IndexFile.load(index, ArchiveIdentity.of(archive), false).index();
    ForgedIndex.save(index, ForgedIndex.swapClusters(real, 0, 1), ArchiveIdentity.of(archive), Map.of());
  }

  private byte[] extracted(Cli.Result r, Path out) throws IOException {
    assertEquals(ExitCodes.OK, r.code(), r.err());
    return Files.readAllBytes(out.resolve("disk-drive-scsi0.raw"));
  }

  /** Reproduction: a forged index made extract write cluster 1's bytes for cluster 0, exit 0. */
  @Test
  void aForgedIndexOfAnotherUserIsIgnored() throws IOException {
    assertEquals(ExitCodes.OK, Cli.run("index", archive.toString()).code());
    forgeSwappedIndex();
    giveToNobody(index);
    Cli.Result r = Cli.run("extract", archive.toString(), dir.resolve("out").toString());
    assertArrayEquals(disk, extracted(r, dir.resolve("out")), "the archive's bytes, not the forger's");
    assertTrue(r.err().contains("ignoring the saved index") && r.err().contains("owned by uid 65534"),
        r.err());
  }

  @Test
  void aGroupWritableIndexIsIgnored() throws IOException {
    assertEquals(ExitCodes.OK, Cli.run("index", archive.toString()).code());
    forgeSwappedIndex();
    Files.setPosixFilePermissions(index, PosixFilePermissions.fromString("rw-rw-r--"));
    Cli.Result r = Cli.run("extract", archive.toString(), dir.resolve("out").toString());
    assertArrayEquals(disk, extracted(r, dir.resolve("out")));
    assertTrue(r.err().contains("writable by other users"), r.err());
  }

  /**
   * Beside an archive in a directory others may write to, an index is never believed (they could
   * replace it at any time) and a new one goes to the private cache directory instead.
   */
  @Test
  void anIndexInADirectoryOthersMayWriteToIsIgnoredAndTheCacheIsUsed() throws Exception {
    assertEquals(ExitCodes.OK, Cli.run("index", archive.toString()).code());
    forgeSwappedIndex();
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
    Path cache = Files.createDirectory(home.resolve("xdg"),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    Map<String, String> env = Map.of("XDG_CACHE_HOME", cache.toString());
    Cli.Result r = Cli.subprocess(List.of("-Duser.home=" + home), env, null, "index", archive.toString());
    assertEquals(ExitCodes.OK, r.code(), r.err());
    assertTrue(r.err().contains("ignoring the saved index") && r.err().contains("writable by other users"), r.err());
    Path saved = Path.of(r.stdout().trim());
    assertEquals(cache.resolve("vmafs"), saved.getParent(), r.stdout());
    assertTrue(saved.getFileName().toString().matches("[0-9a-f]{16}-a\\.vma\\.vmafs-index"), saved.toString());
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(saved.getParent())));
    Cli.Result x = Cli.subprocess(List.of("-Duser.home=" + home), env, null, "extract",
        archive.toString(), dir.resolve("out").toString());
    assertArrayEquals(disk, extracted(x, dir.resolve("out")));
  }

  /**
   * Two archives of one name in two shared directories both keep their index and spill in the
   * cache. The spill is named after the index, which starts with a hash of the archive's path, so
   * neither pass truncates the other's spill (both used to be NAME.spill there).
   */
  @Test
  void spillsOfTwoArchivesOfOneNameInTheCacheAreKeptApart() throws Exception {
    Path cache = Files.createDirectory(home.resolve("xdg"),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    Map<String, String> env = Map.of("XDG_CACHE_HOME", cache.toString());
    List<String> jvm = List.of("-Duser.home=" + home);
    Path[] raws = new Path[2];
    Path[] archives = new Path[2];
    Path[] spills = new Path[2];
    for (int i = 0; i < 2; i++) {
      Path d = Files.createDirectory(dir.resolve("shared" + i));
      Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxrwxrwx"));
      // One frame that spills (--spill: it would otherwise be read through restart points).
      raws[i] = VmaArchiveBuilder.archive().device("drive-scsi0", Sources.mixed(32 << 20, 40 + i)).build()
          .writeTo(dir.resolve("raw" + i + ".vma"));
      archives[i] = d.resolve("a.vma.zst");
      assertEquals(0, new ProcessBuilder("zstd", "-q", "-1", raws[i].toString(), "-o",
          archives[i].toString()).inheritIO().start().waitFor());
      Cli.Result r = Cli.subprocess(jvm, env, null, "index", "--spill", archives[i].toString());
      assertEquals(ExitCodes.OK, r.code(), r.err());
      String index = r.stdout().trim();
      assertTrue(index.startsWith(cache.resolve("vmafs").toString()) && index.endsWith(".vmafs-index"), index);
      spills[i] = Path.of(index.substring(0, index.length() - ".vmafs-index".length()) + ".spill");
    }
    assertNotEquals(spills[0], spills[1]);
    for (int i = 0; i < 2; i++) {
      assertTrue(spills[i].getFileName().toString().matches("[0-9a-f]{16}-a\\.vma\\.zst\\.spill"),
          spills[i].toString());
      assertEquals(-1, Files.mismatch(raws[i], spills[i]), "spill " + i + " holds its own archive's stream");
      Cli.Result again = Cli.subprocess(jvm, env, null, "index", archives[i].toString());
      assertTrue(again.stdout().contains("already up to date"), again.stdout() + again.err());
    }
  }

  /** Under sudo -E, $XDG_CACHE_HOME is another user's: skipped for the invoking user's own home. */
  @Test
  void aCacheDirectoryOfAnotherUserIsNotUsed() throws Exception {
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx")); // not beside
    Path theirs = Files.createDirectories(home.resolve("theirs/vmafs"));
    giveToNobody(theirs);
    giveToNobody(theirs.getParent());
    Path mine = Files.createDirectory(home.resolve("mine"));
    Cli.Result r = Cli.subprocess(List.of("-Duser.home=" + mine), Map.of("XDG_CACHE_HOME",
        theirs.getParent().toString()), null, "index", archive.toString());
    assertEquals(ExitCodes.OK, r.code(), r.err());
    assertTrue(r.err().contains("not using the cache directory " + theirs), r.err());
    assertEquals(mine.resolve(".cache/vmafs"), Path.of(r.stdout().trim()).getParent());
    try (var s = Files.list(theirs)) {
      assertEquals(0, s.count(), "nothing written into the other user's cache");
    }
  }

  /** The index is checked against the archive's own header on every open. */
  @Test
  void anIndexWithAnotherHeaderIsRebuilt() throws IOException {
    assertEquals(ExitCodes.OK, Cli.run("index", archive.toString()).code());
    ExtentIndex real = IndexFile.load(index, ArchiveIdentity.of(archive), false).index();
    ForgedIndex.save(index, ForgedIndex.withHeader(real, h -> new VmaHeader(h.version(), h.uuid(),
        h.ctime(), h.headerSize(), List.of(new ConfigBlob("qemu-server.conf", "memory: 1\n".getBytes()),
            new ConfigBlob("evil.conf", "x".getBytes())), h.devices())),
        ArchiveIdentity.of(archive), Map.of());
    Cli.Result r = Cli.run("info", "--json", archive.toString());
    assertEquals(ExitCodes.OK, r.code(), r.err());
    assertFalse(r.stdout().contains("evil.conf"), r.stdout());
    assertTrue(r.err().contains("configs differ"), r.err());
  }

  /** Reproduction: a 0600 archive gave a 0644 index, exposing its configs to every user. */
  @Test
  void theIndexIsNoMoreReadableThanTheArchive() throws IOException {
    Files.setPosixFilePermissions(archive, PosixFilePermissions.fromString("rw-------"));
    assertEquals(ExitCodes.OK, Cli.run("index", archive.toString()).code());
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(index)));
  }

  @Test
  void anIndexFileInADirectoryOthersMayWriteToIsRefused() throws IOException {
    Path shared = Files.createDirectory(dir.resolve("shared"));
    Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));
    Cli.Result r = Cli.run("index", "--index-file", shared.resolve("x.vmafs-index").toString(),
        archive.toString());
    r.assertCleanError(ExitCodes.ENVIRONMENT);
    assertTrue(r.err().contains("refusing this index file") && r.err().contains("writable by other users"), r.err());
  }

  /** A FIFO planted as the index must not hang vmafs. */
  @Test
  void aFifoInPlaceOfTheIndexDoesNotHang() throws Exception {
    assertEquals(0, new ProcessBuilder("mkfifo", index.toString()).start().waitFor());
    Cli.Result r = assertTimeoutPreemptively(java.time.Duration.ofSeconds(60),
        () -> Cli.run("info", archive.toString()));
    assertEquals(ExitCodes.OK, r.code(), r.err());
    assertTrue(r.err().contains("not a regular file"), r.err());
  }

  /**
   * Reproduction: a 13 KiB archive declaring a 256 TiB disk made info die with OutOfMemoryError
   * (7 bytes per declared cluster); tables now cost what the archive lists.
   */
  @Test
  void aHugeDeclaredDiskCostsWhatTheArchiveLists() throws Exception {
    Path huge = VmaArchiveBuilder.archive().device("drive-scsi0", 1L << 48).build(w ->
        w.writeCluster(1, 5, VmaArchiveBuilder.cluster(Sources.mixed(65536, 1), 0)))
        .writeTo(dir.resolve("huge.vma"));
    assertTrue(Files.size(huge) < 16 * 1024, Files.size(huge) + " bytes");
    List<String> jvm = List.of("-Xmx48m", "-XX:MaxDirectMemorySize=32m", "-Duser.home=" + home);
    Cli.Result info = Cli.subprocess(jvm, Map.of("XDG_CACHE_HOME", home.toString()), null,
        "info", "--json", huge.toString());
    assertEquals(ExitCodes.OK, info.code(), info.err());
    assertTrue(info.stdout().contains("\"size\": 281474976710656"), info.stdout());
    assertTrue(info.stdout().contains("\"missing_clusters\": 4294967295"), info.stdout());
    Cli.Result idx = Cli.subprocess(jvm, Map.of("XDG_CACHE_HOME", home.toString()), null,
        "index", huge.toString());
    assertEquals(ExitCodes.OK, idx.code(), idx.err());
    assertTrue(Files.size(Path.of(idx.stdout().trim())) < 64 * 1024, "a small index file");
  }
}
