package vmafs.fs;

import vmafs.image.ImageContent;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import vmafs.fs.MountOptions.Backend;
import vmafs.fs.SyntheticSparseFile.Range;

/** The behaviour every backend must show, through real mounts and plain file I/O. */
abstract class MountTestBase {
  static final long KIB = 1024;
  static final long MIB = 1024 * KIB;
  static final long GIB = 1024 * MIB;

  static final byte[] CONFIG = "boot: order=scsi0\ncores: 2\nmemory: 2048\nscsi0: local:vm-100\n"
      .getBytes(StandardCharsets.UTF_8);
  /** 16 GiB with data at the start, in the middle (unaligned to MiB), across 8 GiB, and at EOF. */
  static final SyntheticSparseFile DISK = new SyntheticSparseFile(16 * GIB, List.of(
      new Range(0, MIB), new Range(GIB, GIB + 3 * MIB + 4 * KIB),
      new Range(8 * GIB - 64 * KIB, 8 * GIB + 64 * KIB), new Range(16 * GIB - 2 * MIB, 16 * GIB)));
  /** Small enough for cp to read whole where lseek is missing: 1 GiB with 8 MiB of data. */
  static final SyntheticSparseFile SMALL = new SyntheticSparseFile(GIB, List.of(
      new Range(4 * MIB, 8 * MIB), new Range(512 * MIB, 516 * MIB)));
  static final long BROKEN_AT = MIB;

  @TempDir Path tmp;
  Path mnt;
  FuseMount mount;

  abstract Backend backend();

  static ReadOnlyFs filesystem() {
    SyntheticSparseFile intact = new SyntheticSparseFile(4 * MIB, List.of(new Range(0, 4 * MIB)));
    ImageContent broken = new ImageContent() {
      @Override
      public long size() {
        return intact.size();
      }

      @Override
      public long allocatedBytes() {
        return intact.allocatedBytes();
      }

      /** Throws an unchecked exception: ReadOnlyFs must turn any failure into EIO. */
      @Override
      public int read(long offset, ByteBuffer dst) {
        if (offset + dst.remaining() > BROKEN_AT) {
          throw new IllegalStateException("simulated corrupt archive at " + offset);
        }
        return intact.read(offset, dst);
      }

      @Override
      public long nextData(long offset) {
        return intact.nextData(offset);
      }

      @Override
      public long nextHole(long offset) {
        return intact.nextHole(offset);
      }
    };
    return new ReadOnlyFs(List.of(
        new ReadOnlyFs.Entry("drive-scsi0.raw", DISK),
        new ReadOnlyFs.Entry("small.raw", SMALL),
        new ReadOnlyFs.Entry("qemu-server.conf", ImageContent.ofBytes(CONFIG)),
        new ReadOnlyFs.Entry("broken.raw", broken)), 1_700_000_000L);
  }

  MountOptions options(Path mountpoint) {
    return new MountOptions(mountpoint, "/backups/vzdump-qemu-100.vma", 2, false, List.of(),
        backend());
  }

  @BeforeEach
  void mount() throws IOException {
    FuseTestSupport.assumeFuse();
    mnt = Files.createDirectory(tmp.resolve("mnt"));
    mount = FuseMounts.mount(filesystem(), options(mnt));
  }

  @AfterEach
  void unmount() {
    if (mount != null) {
      mount.close();
    }
    FuseTestSupport.forceUnmount(mnt);
  }

  @Test
  void reportsTheBackendInUse() {
    assertEquals(backend(), mount.backend());
  }

  @Test
  void readsWholeFilesAndRandomRangesConcurrently() throws Exception {
    assertArrayEquals(CONFIG, Files.readAllBytes(mnt.resolve("qemu-server.conf")));
    assertEquals(sha256(expected(DISK, GIB, (int) (3 * MIB + 4 * KIB))),
        sha256(readAt(mnt.resolve("drive-scsi0.raw"), GIB, (int) (3 * MIB + 4 * KIB))));

    ExecutorService readers = Executors.newFixedThreadPool(8);
    try {
      List<Future<?>> results = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        long seed = t;
        results.add(readers.submit(() -> {
          randomReads(new Random(seed), 150);
          return null;
        }));
      }
      for (Future<?> f : results) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      readers.shutdownNow();
    }
  }

  /** Unaligned reads, most of them across a boundary between data and hole, some past EOF. */
  private void randomReads(Random random, int count) throws IOException {
    Path file = mnt.resolve("drive-scsi0.raw");
    List<Long> edges = new ArrayList<>();
    for (Range r : DISK.data()) {
      edges.add(r.start());
      edges.add(r.end());
    }
    try (FileChannel ch = FileChannel.open(file)) {
      for (int i = 0; i < count; i++) {
        long edge = edges.get(random.nextInt(edges.size()));
        long offset = random.nextInt(4) == 0 ? (long) (random.nextDouble() * DISK.size())
            : Math.max(0, edge - random.nextInt(300_000));
        int length = 1 + random.nextInt(300_000);
        ByteBuffer buf = ByteBuffer.allocate(length);
        while (buf.hasRemaining() && ch.read(buf, offset + buf.position()) > 0) {
          // keep reading: a read may return fewer bytes than asked
        }
        int expectedLength = (int) Math.min(length, DISK.size() - offset);
        assertEquals(expectedLength, buf.position(), "bytes read at " + offset);
        assertArrayEquals(expected(DISK, offset, expectedLength),
            java.util.Arrays.copyOf(buf.array(), expectedLength), "content at " + offset);
      }
    }
  }

  @Test
  void listsExactlyTheFilesWithReadOnlyModes() throws IOException {
    try (Stream<Path> list = Files.list(mnt)) {
      assertEquals(Set.of("drive-scsi0.raw", "small.raw", "qemu-server.conf", "broken.raw"),
          list.map(p -> p.getFileName().toString()).collect(Collectors.toSet()));
    }
    assertEquals(PosixFilePermissions.fromString("r-xr-xr-x"),
        Files.getPosixFilePermissions(mnt));
    assertEquals(PosixFilePermissions.fromString("r--r--r--"),
        Files.getPosixFilePermissions(mnt.resolve("drive-scsi0.raw")));
    assertEquals(16 * GIB, Files.size(mnt.resolve("drive-scsi0.raw")));
    assertEquals(FileTime.fromMillis(1_700_000_000_000L),
        Files.getLastModifiedTime(mnt.resolve("qemu-server.conf")));
  }

  @Test
  void refusesEveryWrite() {
    Path disk = mnt.resolve("drive-scsi0.raw");
    List<FileSystemException> refused = List.of(
        assertThrows(FileSystemException.class,
            () -> Files.newOutputStream(disk, StandardOpenOption.WRITE).close()),
        assertThrows(FileSystemException.class,
            () -> Files.createFile(mnt.resolve("new"))),
        assertThrows(FileSystemException.class, () -> Files.createDirectory(mnt.resolve("d"))),
        assertThrows(FileSystemException.class, () -> Files.delete(disk)),
        assertThrows(FileSystemException.class,
            () -> Files.move(disk, mnt.resolve("moved.raw"))),
        assertThrows(FileSystemException.class,
            () -> Files.setLastModifiedTime(disk, FileTime.fromMillis(0))),
        assertThrows(FileSystemException.class,
            () -> Files.setPosixFilePermissions(disk, PosixFilePermissions.fromString("rw-rw-rw-"))));
    for (FileSystemException e : refused) {
      assertEquals("Read-only file system", e.getReason(), e.toString());
    }
  }

  @Test
  void stBlocksCountAllocatedBytesOnly() throws Exception {
    assertEquals(DISK.allocatedBytes() / 512,
        Long.parseLong(FuseTestSupport.run("stat", "-c", "%b", mnt.resolve("drive-scsi0.raw").toString())));
    assertEquals(SMALL.allocatedBytes() / KIB, Long.parseLong(
        FuseTestSupport.run("du", "-k", mnt.resolve("small.raw").toString()).split("\\s")[0]));
  }

  /** cp and friends size their reads by st_blksize: 1 MiB, one FUSE request per read. */
  @Test
  void stBlksizeAsksForMegabyteReads() throws Exception {
    assertEquals(String.valueOf(ReadOnlyFs.IO_BLOCK_SIZE),
        FuseTestSupport.run("stat", "-c", "%o", mnt.resolve("drive-scsi0.raw").toString()).trim());
  }

  @Test
  void sparseCopyIsIdenticalAndSparse() throws Exception {
    Path copy = tmp.resolve("copy.raw");
    FuseTestSupport.run("cp", "--sparse=auto", mnt.resolve("small.raw").toString(),
        copy.toString());
    assertEquals(SMALL.size(), Files.size(copy));
    for (Range r : SMALL.data()) {
      assertArrayEquals(expected(SMALL, r.start(), (int) r.length()),
          readAt(copy, r.start(), (int) r.length()));
    }
    assertArrayEquals(new byte[(int) MIB], readAt(copy, 300 * MIB, (int) MIB));
    long copyBlocks = Long.parseLong(FuseTestSupport.run("stat", "-c", "%b", copy.toString()));
    assertTrue(copyBlocks * 512 < 2 * SMALL.allocatedBytes(),
        "copy allocates " + copyBlocks * 512 + " bytes for " + SMALL.allocatedBytes() + " of data");
  }

  @Test
  void contentFailureIsEioAndTheMountSurvives() throws IOException {
    Path broken = mnt.resolve("broken.raw");
    IOException e = assertThrows(IOException.class,
        () -> readAt(broken, 2 * MIB, 64 * (int) KIB));
    assertTrue(e.getMessage().contains("Input/output error"), e.toString());
    assertArrayEquals(CONFIG, Files.readAllBytes(mnt.resolve("qemu-server.conf")));
  }

  @Test
  void closeUnmountsAndTheDirectoryCanBeMountedAgain() throws Exception {
    mount.close();
    assertTrue(FuseTestSupport.mountsAt(mnt).isEmpty(), "still mounted: " + mnt);
    mount.awaitUnmount();
    mount.close(); // idempotent

    mount = FuseMounts.mount(filesystem(), options(mnt));
    assertArrayEquals(CONFIG, Files.readAllBytes(mnt.resolve("qemu-server.conf")));
  }

  @Test
  void anExternalUnmountEndsTheMount() throws Exception {
    FuseMounts.unmount(mnt);
    mount.awaitUnmount();
    assertTrue(FuseTestSupport.mountsAt(mnt).isEmpty(), "still mounted: " + mnt);
  }

  /**
   * {@code -o direct_io}: the same bytes, but none of them stay in the page cache; the default
   * mount ({@code kernel_cache}) keeps what was read.
   */
  @Test
  void directIoServesTheSameBytesWithoutThePageCache() throws Exception {
    Path file = mnt.resolve("small.raw");
    byte[] want = expected(SMALL, 4 * MIB, (int) (4 * MIB));
    assertArrayEquals(want, readAt(file, 4 * MIB, (int) (4 * MIB)));
    assertTrue(residentBytes(file) >= 4 * MIB, "default mount: pages read are cached");

    Path direct = Files.createDirectory(tmp.resolve("direct"));
    MountOptions o = options(direct);
    try (FuseMount m = FuseMounts.mount(filesystem(), new MountOptions(direct, o.fsName(), o.threads(),
        false, List.of("direct_io"), o.backend()))) {
      Path f = direct.resolve("small.raw");
      assertArrayEquals(want, readAt(f, 4 * MIB, (int) (4 * MIB)));
      assertEquals(sha256(expected(SMALL, 510 * MIB, (int) (8 * MIB))), sha256(readAt(f, 510 * MIB, (int) (8 * MIB))));
      assertEquals(0, residentBytes(f), "direct_io: nothing cached");
    } finally {
      FuseTestSupport.forceUnmount(direct);
    }
  }

  /** Page-cache bytes of {@code file}, from util-linux {@code fincore}. */
  static long residentBytes(Path file) throws Exception {
    Process p = new ProcessBuilder("fincore", "--bytes", "--noheadings", "--output", "RES", file.toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertEquals(0, p.waitFor(), out);
    return Long.parseLong(out);
  }

  static byte[] expected(SyntheticSparseFile file, long offset, int length) {
    byte[] b = new byte[length];
    for (int i = 0; i < length; i++) {
      b[i] = file.byteAt(offset + i);
    }
    return b;
  }

  static byte[] readAt(Path file, long offset, int length) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(length);
    try (FileChannel ch = FileChannel.open(file)) {
      while (buf.hasRemaining() && ch.read(buf, offset + buf.position()) > 0) {
        // a read may return fewer bytes than asked
      }
    }
    return java.util.Arrays.copyOf(buf.array(), buf.position());
  }

  static String sha256(byte[] data) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
  }
}
