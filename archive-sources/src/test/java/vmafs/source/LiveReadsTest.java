package vmafs.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import vmafs.cache.BlockCache;
import vmafs.source.internal.RecentOutput;

/**
 * Reads while the decode pass runs (issue #12): a reader waiting on the pass, or following right
 * behind it, gets what the pass has just decoded and decodes nothing itself; a reader too far
 * behind reads through the format's own source, and every byte is right either way.
 */
class LiveReadsTest {
  private static final int READ = 64 << 10;

  private static Path archive(String format) throws IOException {
    return switch (format) {
      case "zst" -> TestArchives.zstd(); // one frame: restart points
      case "lzo" -> TestArchives.lzop();
      case "gz" -> TestArchives.gzip();
      default -> throw new IllegalArgumentException(format);
    };
  }

  /** A pass over one of the test archives with reads served while it runs. */
  private record Opened(DecodePass pass, LiveSource live, BlockCache cache, AtomicLong passAt)
      implements AutoCloseable {
    static Opened of(String format) throws IOException {
      return of(format, LiveSource.RECENT_OUTPUT_BYTES);
    }

    /** With a ring of {@code recent} bytes, smaller than the test archives where a test needs it. */
    static Opened of(String format, int recent) throws IOException {
      BlockCache cache = new BlockCache(64 << 20);
      DecodePass pass = DecodePass.open(archive(format), DecodeOptions.defaults());
      return new Opened(pass, pass.live(cache, recent), cache, new AtomicLong());
    }

    /** Where the pass is. */
    long at() {
      return passAt.get();
    }

    /** What the index pass does with the stream: skips it, 1 MiB at a time. */
    void drain(long upTo) throws IOException {
      InputStream in = pass.stream();
      while (passAt.get() < upTo) {
        long n = in.skip(Math.min(1 << 20, upTo - passAt.get()));
        if (n <= 0) {
          throw new IOException("stream ended at " + passAt.get());
        }
        passAt.addAndGet(n);
      }
    }

    @Override
    public void close() throws IOException {
      pass.close();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"zst", "lzo", "gz"})
  void readsRightBehindThePassDecodeNothing(String format) throws Exception {
    byte[] data = TestArchives.data();
    try (Opened o = Opened.of(format)) {
      LiveSource live = o.live();
      AtomicLong readerAt = new AtomicLong();
      // The reader runs ahead of the pass whenever it can, so it waits on it and is woken as the
      // pass decodes what it asked for; its bytes are still in the pass's recent output then.
      CompletableFuture<Void> reader = CompletableFuture.runAsync(() -> {
        ByteBuffer buf = ByteBuffer.allocate(READ);
        try {
          for (int at = 0; at < data.length; at += READ) {
            buf.clear().limit(Math.min(READ, data.length - at));
            live.readFully(at, buf);
            assertEquals(-1, Arrays.mismatch(buf.array(), 0, buf.limit(), data, at,
                at + buf.limit()), "at " + at);
            readerAt.set(at + buf.limit());
          }
        } catch (IOException e) {
          throw new RuntimeException(e);
        }
      });
      // Right behind: the pass stays at most 4 MiB ahead of the reader (a reader descheduled on a
      // busy machine must not fall out of the recent output: that is the other test).
      // Without sharing, the reader would wait for a prefix that only the pass going on makes:
      // it waits 100 ms at most.
      long waitedFor = o.at();
      long since = System.nanoTime();
      while (o.at() < data.length) {
        if (o.at() != waitedFor) {
          waitedFor = o.at();
          since = System.nanoTime();
        }
        if (o.at() - readerAt.get() > 4 << 20 && !reader.isDone()
            && System.nanoTime() - since < 100_000_000L) {
          Thread.sleep(1);
          continue;
        }
        o.drain(Math.min(data.length, o.at() + (1 << 20)));
      }
      reader.get(60, TimeUnit.SECONDS);
      LiveSource.Served s = live.served();
      assertEquals(data.length, s.fromRecent(), "bytes copied from the pass's output");
      assertEquals(0, s.fromPrefix(), "bytes read through a prefix");
      assertEquals(0, o.cache().stats().misses(), "blocks the reader decoded: " + o.cache().stats());
      o.pass().finish();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"zst", "lzo", "gz"})
  void aReaderFarBehindThePassReadsThroughTheFormatsSource(String format) throws Exception {
    byte[] data = TestArchives.data();
    int recent = 4 << 20;
    try (Opened o = Opened.of(format, recent)) {
      LiveSource live = o.live();
      long ahead = recent + (4 << 20);
      o.drain(ahead);
      CompletableFuture<ByteBuffer> reader = CompletableFuture.supplyAsync(() -> {
        ByteBuffer buf = ByteBuffer.allocate(READ);
        try {
          live.readFully(1 << 20, buf);
        } catch (IOException e) {
          throw new RuntimeException(e);
        }
        return buf;
      });
      // The pass goes on slowly, so that it sees the waiting read and publishes a prefix for it.
      while (!reader.isDone() && o.at() < data.length) {
        o.drain(Math.min(data.length, o.at() + (64 << 10)));
        Thread.sleep(2);
      }
      ByteBuffer got = reader.get(60, TimeUnit.SECONDS);
      assertEquals(-1, Arrays.mismatch(got.array(), 0, READ, data, 1 << 20, (1 << 20) + READ));
      assertEquals(READ, live.served().fromPrefix());
      assertEquals(0, live.served().fromRecent());
      o.drain(data.length);
      o.pass().finish();
    }
  }

  /**
   * One writer laps a small ring as fast as it can while readers copy ranges at its oldest edge:
   * a read either returns the bytes that were written at those offsets or declines, never a mix.
   */
  @Test
  void aReadRacingAnOverwriteDeclinesRatherThanTear() throws Exception {
    int cap = 64 << 10;
    RecentOutput ring = new RecentOutput(cap, 0);
    long total = 256L << 20;
    CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
      while (ring.written() < total) {
        int at = ring.writeOffset();
        int n = ring.reserve(4096);
        long pos = ring.written();
        for (int i = 0; i < n; i++) {
          ring.array()[at + i] = pattern(pos + i);
        }
        ring.commit(n);
      }
    });
    SplittableRandom r = new SplittableRandom(7);
    ByteBuffer buf = ByteBuffer.allocate(cap);
    long served = 0;
    long declined = 0;
    while (!writer.isDone()) {
      long w = ring.written();
      int len = 1 + r.nextInt(cap / 4);
      // Half at the oldest edge, where the writer overwrites; half well inside the ring.
      long at = Math.max(0, w - cap + (r.nextBoolean() ? r.nextInt(4096) : cap / 2));
      buf.clear().limit(len);
      if (ring.read(at, buf)) {
        served++;
        for (int i = 0; i < len; i++) {
          if (buf.get(i) != pattern(at + i)) {
            throw new AssertionError("torn read at " + (at + i) + " of " + at + "+" + len);
          }
        }
      } else {
        declined++;
        assertEquals(0, buf.position(), "a declined read leaves the buffer as it was");
      }
    }
    writer.get();
    assertTrue(served > 0, served + " served, " + declined + " declined");
  }

  private static byte pattern(long position) {
    return (byte) (position * 31 + (position >>> 16));
  }
}
