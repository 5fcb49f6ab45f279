package vmafs.source.lzop;

import io.airlift.compress.MalformedInputException;
import io.airlift.compress.lzo.LzoDecompressor;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import vmafs.source.ArchiveFormat;
import vmafs.source.CorruptArchiveException;
import vmafs.source.DecodeOptions;
import vmafs.source.SourceMap;
import vmafs.source.internal.DecodePassBase;
import vmafs.source.internal.SpillFile;
import vmafs.source.raw.SpillMap;
import vmafs.vma.io.StoredBytes;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.Adler32;
import java.util.zip.CRC32;
import java.util.zip.Checksum;
import vmafs.source.CorruptArchiveException.Part;
import vmafs.source.CorruptArchiveException.Where;

/**
 * Decodes a {@code .vma.lzo} block by block, verifying every checksum the header announces, and
 * records each block's sizes and data checksum for {@link LzopMap}.
 */
public final class LzopDecodePass extends DecodePassBase {
  /**
   * Blocks in flight: read in order on the caller's thread (cheap), decoded and verified on the
   * workers, handed out in order. lzop blocks are independent, so decoding (pure-Java LZO1X, the
   * pass's main cost) uses every core; measured, one decoder thread alone gained nothing.
   */
  private static final int IN_FLIGHT = 6;
  private static final int WORKERS = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));

  private final LzopFormat.Header header;
  private final LzopMap.Builder blocks;
  private final ThreadLocal<LzoDecompressor> lzo = ThreadLocal.withInitial(LzoDecompressor::new);
  private final Deque<Future<ByteBuffer>> inFlight = new ArrayDeque<>();
  /**
   * Buffers reused round-robin: block k uses slot k % RING, which is free again once the caller
   * has moved past block k (at most IN_FLIGHT blocks are ahead of it). A fresh array per block
   * made the short-heap JVM collect ~300 times per GiB and was slower than decoding on one thread.
   */
  private static final int RING = IN_FLIGHT + 1;
  private final byte[][] compressedRing = new byte[RING][0];
  private final byte[][] blockRing = new byte[RING][0];
  private ExecutorService workers;
  private boolean inputEnded;
  private ByteBuffer current;

  public LzopDecodePass(StoredBytes archive, boolean owns, DecodeOptions options) throws IOException {
    super(archive, owns, options);
    try {
      this.header = LzopFormat.readHeader(in);
      this.blocks = new LzopMap.Builder(header);
      if (options.forceSpill()) {
        startSpill(0);
      }
    } catch (IOException | RuntimeException e) {
      close();
      throw e;
    }
  }

  @Override
  public ArchiveFormat format() {
    return ArchiveFormat.LZOP;
  }

  @Override
  protected int produce(byte[] b, int off, int len) throws IOException {
    if (current == null || !current.hasRemaining()) {
      while (!inputEnded && inFlight.size() < IN_FLIGHT) {
        try {
          Callable<ByteBuffer> task = nextBlock();
          if (task != null) {
            inFlight.add(workers().submit(task));
          }
        } catch (IOException e) {
          // Reported in stream order: after whatever the blocks before it turn out to be.
          inFlight.add(CompletableFuture.failedFuture(e));
          inputEnded = true;
        }
      }
      Future<ByteBuffer> next = inFlight.poll();
      if (next == null) {
        shutdownWorkers();
        return -1;
      }
      current = await(next);
    }
    int n = Math.min(len, current.remaining());
    current.get(b, off, n);
    return n;
  }

  private ExecutorService workers() {
    if (workers == null) {
      AtomicInteger n = new AtomicInteger();
      workers = Executors.newFixedThreadPool(WORKERS, r -> {
        Thread t = new Thread(r, "vmafs-lzop-decode-" + n.incrementAndGet());
        t.setDaemon(true);
        return t;
      });
    }
    return workers;
  }

  private ByteBuffer await(Future<ByteBuffer> f) throws IOException {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException(name + ": interrupted while decoding");
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof IOException io) {
        throw io;
      }
      throw new IOException(name + ": " + cause, cause);
    }
  }

  private void shutdownWorkers() {
    if (workers != null) {
      workers.shutdownNow();
    }
  }

  @Override
  public void close() throws IOException {
    shutdownWorkers();
    super.close();
  }

  /**
   * Reads the next block's header and compressed bytes and returns the task that decodes and
   * verifies it; null (and {@link #inputEnded}) at the verified end marker.
   */
  private Callable<ByteBuffer> nextBlock() throws IOException {
    long headerOffset = in.offset();
    long usize = in.readU32BE();
    if (usize == 0) {
      if (!in.atEof()) {
        throw new CorruptArchiveException(Where.at(name, in.offset()),
            "trailing garbage after the lzop end marker");
      }
      inputEnded = true;
      return null;
    }
    long csize = in.readU32BE();
    LzopMap.checkSizes(name, blocks.count(), headerOffset, csize, usize);
    long adlerD = (header.flags() & LzopFormat.F_ADLER32_D) != 0 ? in.readU32BE() : -1;
    long crcD = (header.flags() & LzopFormat.F_CRC32_D) != 0 ? in.readU32BE() : -1;
    long adlerC = -1;
    long crcC = -1;
    if (csize < usize) {
      adlerC = (header.flags() & LzopFormat.F_ADLER32_C) != 0 ? in.readU32BE() : -1;
      crcC = (header.flags() & LzopFormat.F_CRC32_C) != 0 ? in.readU32BE() : -1;
    }
    int c = (int) csize;
    int u = (int) usize;
    int slot = blocks.count() % RING; // blocks.count() numbers this block
    if (compressedRing[slot].length < c) {
      compressedRing[slot] = new byte[c];
    }
    byte[] compressed = compressedRing[slot];
    in.readFully(compressed, 0, c);
    Where where = Where.of(name, Part.LZOP_BLOCK, blocks.count(), headerOffset);
    blocks.add(c, u, crcD >= 0 ? crcD : adlerD);
    long ac = adlerC;
    long cc = crcC;
    return () -> {
      verify(ac, new Adler32(), compressed, c, where, "compressed data Adler-32");
      verify(cc, new CRC32(), compressed, c, where, "compressed data CRC-32");
      byte[] block;
      if (c == u) {
        block = compressed;
      } else {
        if (blockRing[slot].length < u) {
          blockRing[slot] = new byte[u];
        }
        block = blockRing[slot];
        decompress(lzo.get(), compressed, c, block, u, where);
      }
      verify(adlerD, new Adler32(), block, u, where, "Adler-32");
      verify(crcD, new CRC32(), block, u, where, "CRC-32");
      return ByteBuffer.wrap(block, 0, u);
    };
  }

  static void decompress(LzoDecompressor lzo, byte[] src, int c, byte[] dst, int u, Where where)
      throws IOException {
    int n;
    try {
      n = lzo.decompress(src, 0, c, dst, 0, u);
    } catch (MalformedInputException | IndexOutOfBoundsException e) {
      throw new CorruptArchiveException(where, "corrupt LZO data: " + e.getMessage(), e);
    }
    if (n != u) {
      throw new CorruptArchiveException(where, "decoded to " + n + " bytes instead of " + u);
    }
  }

  static void verify(long expected, Checksum sum, byte[] data, int len, Where where, String what)
      throws IOException {
    if (expected < 0) {
      return;
    }
    sum.update(data, 0, len);
    if (sum.getValue() != expected) {
      throw new CorruptArchiveException(where, what + " mismatch (stored " + Long.toHexString(expected)
          + ", computed " + Long.toHexString(sum.getValue()) + "); the archive is damaged");
    }
  }

  @Override
  protected Prefix prefix(vmafs.cache.BlockCache cache) throws IOException {
    LzopMap m = blocks.prefix(produced());
    return m.blockCount() == 0 ? null : new Prefix(m.openUnchecked(archive, cache), m.uncompressedSize());
  }

  @Override
  protected SourceMap buildMap(long size, SpillFile spill, long spillStart) {
    if (spill != null) {
      return new SpillMap(ArchiveFormat.LZOP, in.fileSize(), spill);
    }
    return blocks.build(in.fileSize(), size);
  }
}
