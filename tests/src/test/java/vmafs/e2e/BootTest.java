package vmafs.e2e;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Scenario 1 of the design card: boot a VM straight from a mounted backup, read-only underneath.
 *
 * <p>The disk is built here: 512 MiB, sparse, random data scattered over it, an MBR whose boot
 * sector ({@code samples/bootsector.asm}) reads a marker sector ~488 MiB in with int 13h extended
 * read, prints it to the serial port and then writes it back ~342 MiB in. Packed with {@code vmafs
 * create --order shuffled}, so the marker's cluster sits in the archive before clusters that come
 * earlier on the disk. Every qemu is TCG and ends through isa-debug-exit (exit status 1 = the
 * guest said ok, 3 = its disk read or write failed).
 */
class BootTest {
  static final long SIZE = 512L << 20;
  static final long MARKER_LBA = 1_000_000;
  static final long NEAR_LBA = 4096;
  static final long WRITE_LBA = 700_000;
  static final String MARKER = "vmafs boot test: far marker at LBA " + MARKER_LBA;
  static final String IMAGE = "disk-drive-virtio0.raw";

  @TempDir static Path dir;
  static Path disk;
  static Path archive;
  static String diskSha;
  static Mounted mount;

  @BeforeAll
  static void build() throws IOException {
    archive = bootArchive(dir);
    disk = dir.resolve("disk.raw");
    diskSha = Images.sha256(disk);
    mount = Mounted.mount(archive, dir.resolve("mnt"));
  }

  /** Builds the boot disk ({@code dir/disk.raw}) and its shuffled archive, which it returns. */
  static Path bootArchive(Path dir) throws IOException {
    Path disk = bootDisk(dir);
    Path archive = dir.resolve("vzdump-qemu-101-2026_11_22-12_00_00.vma");
    Run.vmafs("create", "--order", "shuffled", "--seed", "3", archive.toString(),
        "drive-virtio0=" + disk).ok();
    return archive;
  }

  /**
   * The boot disk, {@code dir/disk.raw}: sparse random data, an MBR with the sample boot sector,
   * the far marker at {@link #MARKER_LBA} and a near one at {@link #NEAR_LBA}.
   */
  static Path bootDisk(Path dir) throws IOException {
    Path disk = Images.sparse(dir.resolve("disk.raw"), SIZE, 60, 11);
    Run.sh("printf 'label: dos\\nstart=2048, type=83, bootable\\n' | sfdisk -q " + disk).ok();
    byte[] boot = Files.readAllBytes(Qemu.bootSector(dir.resolve("boot.bin"), MARKER_LBA, WRITE_LBA));
    assertEquals(440, boot.length);
    Qemu.poke(disk, 0, boot);
    Qemu.poke(disk, MARKER_LBA * 512, sector(MARKER));
    Qemu.poke(disk, NEAR_LBA * 512, sector("vmafs boot test: near marker"));
    return disk;
  }

  @AfterAll
  static void unmount() {
    if (mount != null) {
      mount.close();
    }
  }

  @Test
  void theMarkerClusterIsOutOfOrderInTheArchive() throws IOException {
    byte[] a = Files.readAllBytes(archive);
    long far = indexOf(a, MARKER.getBytes(StandardCharsets.US_ASCII));
    long near = indexOf(a, "vmafs boot test: near marker".getBytes(StandardCharsets.US_ASCII));
    assertTrue(far > 0 && near > 0, "markers not found in the archive");
    assertTrue(far < near, "the far marker should come first in a shuffled archive: far at " + far
        + ", near at " + near);
  }

  @ParameterizedTest(name = "if={0}")
  @ValueSource(strings = {"virtio", "ide"})
  void bootsWithSnapshotAndGuestWritesGoNowhere(String iface) throws IOException {
    Path img = mount.file(IMAGE);
    Run.Result r = Qemu.boot("file=" + img + ",format=raw,if=" + iface, "-snapshot");
    assertBooted(r, true);
    assertEquals(diskSha, Images.sha256(img), "the mounted image changed");
  }

  @Test
  void bootsFromAQcow2OverlayThatTakesTheGuestWrites() throws IOException {
    Path img = mount.file(IMAGE);
    Path overlay = dir.resolve("overlay.qcow2");
    Run.cmd("qemu-img", "create", "-f", "qcow2", "-b", img.toString(), "-F", "raw", overlay.toString()).ok();
    try {
      assertBooted(Qemu.boot("file=" + overlay + ",format=qcow2,if=virtio"), true);

      // The guest's write is in the overlay ...
      Path flat = dir.resolve("overlay-flat.raw");
      Run.cmd("qemu-img", "convert", "-f", "qcow2", "-O", "raw", overlay.toString(), flat.toString()).ok();
      assertArrayEquals(sector(MARKER), readSector(flat, WRITE_LBA));
      Files.delete(flat);
      Run.Result cmp = Run.cmd("qemu-img", "compare", "-f", "qcow2", "-F", "raw", overlay.toString(), img.toString());
      assertEquals(1, cmp.code(), cmp.out() + cmp.err());
      assertTrue(cmp.out().contains("Content mismatch at offset " + WRITE_LBA * 512 + "!"), cmp.out());
      // ... and nowhere else: the mounted image is the backup's, byte for byte.
      assertArrayEquals(readSector(disk, WRITE_LBA), readSector(img, WRITE_LBA));
      assertEquals(diskSha, Images.sha256(img), "the mounted image changed");

      // The overlay boots again and still reads the backup underneath.
      assertBooted(Qemu.boot("file=" + overlay + ",format=qcow2,if=virtio"), true);
    } finally {
      Files.deleteIfExists(overlay);
    }
  }

  @Test
  void readOnlyDrivesRefuseGuestWritesAndWritableOpensAreRefused() {
    Path img = mount.file(IMAGE);
    // readonly=on (virtio): the guest reads fine, and its write fails inside the guest.
    Run.Result ro = Qemu.boot("file=" + img + ",format=raw,if=virtio,readonly=on");
    assertTrue(ro.out().contains("reading LBA " + MARKER), ro.out());
    assertTrue(ro.out().contains("vmafs-boot-fail"), ro.out());
    assertEquals(Qemu.EXIT_FAIL, ro.code(), ro.out() + ro.err());

    // Neither -snapshot nor readonly: qemu opens read-write, which the mount refuses.
    Run.Result rw = Qemu.boot("file=" + img + ",format=raw,if=virtio");
    assertEquals(1, rw.code());
    assertTrue(rw.err().contains("Read-only file system"), rw.err());
    assertFalse(rw.out().contains("vmafs-boot"), rw.out());

    // readonly=on with IDE: qemu itself refuses (IDE disks cannot be read-only); -snapshot works.
    Run.Result ide = Qemu.boot("file=" + img + ",format=raw,if=ide,readonly=on");
    assertTrue(ide.err().contains("Block node is read-only"), ide.err());
  }

  /** Every qemu cache mode works on the FUSE file, including O_DIRECT ones (none, directsync). */
  @ParameterizedTest(name = "cache={0}")
  @ValueSource(strings = {"none", "directsync", "writethrough", "writeback", "unsafe"})
  void everyCacheModeBoots(String cache) {
    Run.Result r = Qemu.boot("file=" + mount.file(IMAGE) + ",format=raw,if=virtio,snapshot=on,cache=" + cache);
    assertBooted(r, true);
  }

  @Test
  void oDirectReadsReturnTheData() throws IOException {
    Path img = mount.file(IMAGE);
    Path out = dir.resolve("direct.bin");
    Run.cmd("dd", "if=" + img, "of=" + out, "bs=1M", "skip=" + (MARKER_LBA * 512 >> 20), "count=4",
        "iflag=direct", "status=none").ok();
    byte[] expected = new byte[4 << 20];
    try (RandomAccessFile f = new RandomAccessFile(disk.toFile(), "r")) {
      f.seek((MARKER_LBA * 512 >> 20) << 20);
      f.readFully(expected);
    }
    assertArrayEquals(expected, Files.readAllBytes(out));
    Files.delete(out);
  }

  /**
   * qemu's image locking (OFD locks on bytes 100+) works on the FUSE file: a running VM holds
   * shared read locks, and a second VM, qemu-img info and qemu-img convert still open the image.
   */
  @Test
  void lockingLetsReadersShareTheImage() throws Exception {
    Path img = mount.file(IMAGE);
    Process first = new ProcessBuilder("qemu-system-x86_64", "-nodefaults", "-machine", "pc,accel=tcg",
        "-m", "64", "-display", "none", "-S", "-drive", "file=" + img + ",format=raw,if=virtio,readonly=on")
        .redirectErrorStream(true).redirectOutput(dir.resolve("first-qemu.log").toFile()).start();
    try {
      waitForLock(first);
      assertTrue(first.isAlive(), Files.readString(dir.resolve("first-qemu.log")));
      assertBooted(Qemu.boot("file=" + img + ",format=raw,if=virtio", "-snapshot"), true);
      assertTrue(Run.cmd("qemu-img", "info", img.toString()).ok().out().contains("virtual size: 512 MiB"));
      Path copy = dir.resolve("locked-copy.raw");
      Run.cmd("qemu-img", "convert", "-O", "raw", img.toString(), copy.toString()).ok();
      assertEquals(diskSha, Images.sha256(copy));
      Files.delete(copy);
    } finally {
      first.destroyForcibly();
      first.waitFor(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void bootsFromTheLibfuse2Backend() {
    try (Mounted m2 = Mounted.mount(archive, dir.resolve("mnt-fuse2"), "--fuse=2")) {
      assertBooted(Qemu.boot("file=" + m2.file(IMAGE) + ",format=raw,if=virtio,cache=none", "-snapshot"), true);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  // ---- helpers ----

  static void assertBooted(Run.Result r, boolean wrote) {
    String all = "exit " + r.code() + "\nserial: " + r.out() + "\nstderr: " + r.err();
    assertTrue(r.out().contains("vmafs-boot: booted, reading LBA " + MARKER + "\n"), all);
    if (wrote) {
      assertTrue(r.out().contains("vmafs-boot-wrote"), all);
    }
    assertTrue(r.out().contains("vmafs-boot-ok"), all);
    assertEquals(Qemu.EXIT_OK, r.code(), all);
  }

  /** Waits until the paused qemu has opened the image (its OFD locks show in /proc/locks). */
  private static void waitForLock(Process qemu) throws IOException {
    for (int i = 0; i < 100 && qemu.isAlive(); i++) {
      if (Files.readAllLines(Path.of("/proc/locks")).stream().anyMatch(l -> l.contains("OFDLCK"))) {
        return;
      }
      Mounted.sleep(100);
    }
  }

  static byte[] sector(String text) {
    return Arrays.copyOf(text.getBytes(StandardCharsets.US_ASCII), 512);
  }

  static byte[] readSector(Path file, long lba) throws IOException {
    byte[] b = new byte[512];
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
      f.seek(lba * 512);
      f.readFully(b);
    }
    return b;
  }

  static long indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
