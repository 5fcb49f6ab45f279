package vmafs.fs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import vmafs.image.ImageContent;
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

  /**
   * Reads that block (a range the index pass has not reached yet) must not starve the others: with
   * two request threads and eight blocked readers, a listing, a stat and a read of another file are
   * still answered. Fails with a fixed pool: every thread would be waiting in the gated read.
   */
  @Test
  void blockedReadsLeaveThreadsForOtherRequests() throws Exception {
    CountDownLatch gate = new CountDownLatch(1);
    CountDownLatch entered = new CountDownLatch(8);
    ImageContent gated = new ImageContent() {
      @Override
      public long size() {
        return MIB;
      }

      @Override
      public long allocatedBytes() {
        return MIB;
      }

      @Override
      public int read(long offset, ByteBuffer dst) throws IOException {
        entered.countDown();
        try {
          gate.await();
        } catch (InterruptedException e) {
          throw new IOException("interrupted");
        }
        int n = (int) Math.min(dst.remaining(), MIB - offset);
        dst.position(dst.position() + n);
        return n;
      }

      @Override
      public long nextData(long offset) {
        return offset < MIB ? offset : -1;
      }

      @Override
      public long nextHole(long offset) {
        return MIB;
      }
    };
    Path gatedMnt = Files.createDirectory(tmp.resolve("gated"));
    ReadOnlyFs fs = new ReadOnlyFs(List.of(new ReadOnlyFs.Entry("gated.raw", gated),
        new ReadOnlyFs.Entry("small.raw", SMALL)), 1_700_000_000L);
    ExecutorService readers = Executors.newFixedThreadPool(9);
    FuseMount m = FuseMounts.mount(fs, new MountOptions(gatedMnt, "gated", 2, false,
        List.of(MountOptions.DIRECT_IO), backend()));
    try {
      List<Future<?>> blocked = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        long at = i * 4096L;
        blocked.add(readers.submit(() -> readAt(gatedMnt.resolve("gated.raw"), at, 4096)));
      }
      assertTrue(entered.await(20, TimeUnit.SECONDS), "all eight readers reached the filesystem");
      Future<byte[]> other = readers.submit(() -> {
        try (Stream<Path> list = Files.list(gatedMnt)) {
          assertEquals(2, list.count());
        }
        assertEquals(GIB, Files.size(gatedMnt.resolve("small.raw")));
        return readAt(gatedMnt.resolve("small.raw"), 4 * MIB, 8192);
      });
      assertArrayEquals(expected(SMALL, 4 * MIB, 8192), other.get(20, TimeUnit.SECONDS));
      assertFalse(blocked.get(0).isDone(), "the gated reads are still waiting");
      gate.countDown();
      for (Future<?> f : blocked) {
        f.get(20, TimeUnit.SECONDS);
      }
    } finally {
      gate.countDown();
      readers.shutdownNow();
      m.close();
      FuseTestSupport.forceUnmount(gatedMnt);
    }
  }
}
