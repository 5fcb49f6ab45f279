package vmafs.source.zstd;

import com.github.luben.zstd.ZstdCompressCtx;
import java.io.Closeable;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import vmafs.source.DecodeOptions;
import vmafs.source.internal.ChunkChecksums;
import vmafs.vma.io.Endian;

/**
 * Writes the zstd seekable format: independent frames cut where the caller says ({@link
 * #endFrame()}), optional skippable frames (e.g. an embedded VMA index), a skippable frame of
 * {@link ChunkChecksums} (so random reads may decode only part of a frame), then the seek table. Each
 * frame carries its content size and checksum, and the seek table (Checksum_Flag = 1) copies the
 * checksum, so {@code zstd -d}/{@code -t}/{@code -l} (the Proxmox restore path) work unchanged and
 * {@link ZstdFrameMap#fromSeekTable} reads it back without a decode pass.
 *
 * <p>With {@code workers > 0} frames are compressed in parallel and written in order; at most
 * {@code 2 × workers} frames are in flight. Not thread-safe: one thread writes.
 */
public final class SeekableZstdWriter implements Closeable {
  public static final int DEFAULT_LEVEL = 3;
  /**
   * A frame is cut automatically at this size even if the caller has not ended it; larger frames
   * would make readers with default options spill instead of seeking.
   */
  public static final int DEFAULT_MAX_FRAME = DecodeOptions.DEFAULT_ZSTD_MAX_FRAME;

  /** {@code chunks}: CRC-32C per 64 KiB of a data frame's content ({@link ChunkChecksums}). */
  private record Entry(int compressedSize, int decompressedSize, int checksum, byte[] bytes,
      int[] chunks) {}

  private final OutputStream out;
  private final int level;
  private final int maxFrame;
  private final ExecutorService executor;
  private final int maxInFlight;
  private final ConcurrentLinkedDeque<ZstdCompressCtx> contexts = new ConcurrentLinkedDeque<>();
  private final ArrayDeque<Future<Entry>> inFlight = new ArrayDeque<>();
  private final List<Entry> table = new ArrayList<>();
  private byte[] frame = new byte[1 << 20];
  private int frameLen;
  private long bytesIn;
  private long bytesOut;
  private boolean closed;

  public SeekableZstdWriter(OutputStream out) {
    this(out, DEFAULT_LEVEL, 0, DEFAULT_MAX_FRAME);
  }

  /**
   * @param workers compression threads; 0 compresses on the calling thread
   * @param maxFrame uncompressed bytes after which a frame is cut without {@link #endFrame()}
   */
  public SeekableZstdWriter(OutputStream out, int level, int workers, int maxFrame) {
    if (maxFrame <= 0 || maxFrame > DecodeOptions.MAX_BLOCK_ALLOCATION) {
      throw new IllegalArgumentException("max frame size out of range: " + maxFrame);
    }
    this.out = out;
    this.level = level;
    this.maxFrame = maxFrame;
    this.executor = workers > 0 ? Executors.newFixedThreadPool(workers, r -> {
      Thread t = new Thread(r, "zstd-seekable-writer");
      t.setDaemon(true);
      return t;
    }) : null;
    this.maxInFlight = Math.max(1, 2 * workers);
  }

  public void write(byte[] b) throws IOException {
    write(b, 0, b.length);
  }

  public void write(byte[] b, int off, int len) throws IOException {
    ensureOpen();
    while (len > 0) {
      int k = Math.min(len, maxFrame - frameLen);
      if (frameLen + k > frame.length) {
        frame = Arrays.copyOf(frame, (int) Math.min(maxFrame, Math.max(2L * frame.length, frameLen + k)));
      }
      System.arraycopy(b, off, frame, frameLen, k);
      frameLen += k;
      off += k;
      len -= k;
      if (frameLen == maxFrame) {
        endFrame();
      }
    }
  }

  /** Ends the current frame; a no-op if it is empty (the format has no use for empty frames). */
  public void endFrame() throws IOException {
    ensureOpen();
    if (frameLen == 0) {
      return;
    }
    byte[] data = Arrays.copyOf(frame, frameLen);
    bytesIn += frameLen;
    frameLen = 0;
    if (executor == null) {
      emit(compress(data));
    } else {
      inFlight.add(executor.submit(() -> compress(data)));
      drain(maxInFlight - 1);
    }
  }

  /**
   * Ends the current frame and writes a skippable frame with magic {@code 0x184D2A50 | nibble};
   * it is listed in the seek table with decompressed size 0 and ignored by zstd decoders.
   *
   * @param nibble 0–15 except 0xE, which the seek table uses
   */
  public void writeSkippableFrame(int nibble, byte[] payload) throws IOException {
    if (nibble < 0 || nibble > 0xF || nibble == ZstdFormat.SEEK_TABLE_NIBBLE) {
      throw new IllegalArgumentException("skippable frame nibble must be 0-15 but not 14: " + nibble);
    }
    if (payload.length > Integer.MAX_VALUE - ZstdFormat.SKIPPABLE_HEADER_SIZE) {
      throw new IllegalArgumentException("skippable payload too large: " + payload.length);
    }
    endFrame();
    ByteBuffer f = ByteBuffer.allocate(ZstdFormat.SKIPPABLE_HEADER_SIZE + payload.length)
        .order(ByteOrder.LITTLE_ENDIAN);
    f.putInt(ZstdFormat.SKIPPABLE_MAGIC_BASE | nibble).putInt(payload.length).put(payload);
    Entry e = new Entry(f.capacity(), 0, 0, f.array(), new int[0]);
    if (executor == null) {
      emit(e);
    } else {
      inFlight.add(CompletableFuture.completedFuture(e));
      drain(maxInFlight - 1);
    }
  }

  private Entry compress(byte[] data) {
    ZstdCompressCtx ctx = contexts.pollFirst();
    if (ctx == null) {
      ctx = new ZstdCompressCtx().setLevel(level).setChecksum(true).setContentSize(true);
    }
    try {
      byte[] c = ctx.compress(data);
      // With setChecksum(true) the frame ends in the low 32 bits of its XXH64: exactly the
      // value the seek table's Checksum field wants.
      int checksum = Endian.le32(c, c.length - ZstdFormat.CHECKSUM_SIZE);
      return new Entry(c.length, data.length, checksum, c,
          ChunkChecksums.of(data, 0, data.length, ChunkChecksums.DEFAULT_CHUNK));
    } finally {
      contexts.offerFirst(ctx);
    }
  }

  private void drain(int keep) throws IOException {
    while (inFlight.size() > keep) {
      try {
        emit(inFlight.removeFirst().get());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while compressing");
      } catch (ExecutionException e) {
        throw new IOException("zstd compression failed: " + e.getCause(), e.getCause());
      }
    }
  }

  private void emit(Entry e) throws IOException {
    if (table.size() >= ZstdFormat.SEEK_MAX_FRAMES) {
      throw new IOException("too many frames for a seek table: " + table.size());
    }
    out.write(e.bytes());
    bytesOut += e.bytes().length;
    table.add(new Entry(e.compressedSize(), e.decompressedSize(), e.checksum(), null, e.chunks()));
  }

  /** Uncompressed bytes in completed frames. */
  public long bytesIn() {
    return bytesIn;
  }

  /** Bytes written so far (frames already compressed and written). */
  public long bytesOut() {
    return bytesOut;
  }

  private void ensureOpen() throws IOException {
    if (closed) {
      throw new IOException("seekable zstd writer is closed");
    }
  }

  /** Ends the last frame, writes the seek table and closes the output stream. */
  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    try {
      endFrame();
      drain(0);
      List<int[]> chunks = new ArrayList<>();
      for (Entry e : table) {
        if (e.decompressedSize() > 0) {
          chunks.add(e.chunks());
        }
      }
      if (!chunks.isEmpty()) {
        writeSkippableFrame(ChunkChecksums.NIBBLE,
            ChunkChecksums.pack(ChunkChecksums.DEFAULT_CHUNK, chunks));
      }
      drain(0);
      int n = table.size();
      int frameSize = n * ZstdFormat.SEEK_ENTRY_SIZE_WITH_CHECKSUM + ZstdFormat.SEEK_FOOTER_SIZE;
      ByteBuffer t = ByteBuffer.allocate(ZstdFormat.SKIPPABLE_HEADER_SIZE + frameSize)
          .order(ByteOrder.LITTLE_ENDIAN);
      t.putInt(ZstdFormat.SEEK_TABLE_MAGIC).putInt(frameSize);
      for (Entry e : table) {
        t.putInt(e.compressedSize()).putInt(e.decompressedSize()).putInt(e.checksum());
      }
      t.putInt(n).put((byte) ZstdFormat.SEEK_DESCRIPTOR_CHECKSUM).putInt(ZstdFormat.SEEKABLE_MAGIC);
      out.write(t.array());
      bytesOut += t.capacity();
    } finally {
      closed = true;
      if (executor != null) {
        executor.shutdownNow();
      }
      ZstdCompressCtx ctx;
      while ((ctx = contexts.pollFirst()) != null) {
        ctx.close();
      }
      out.close();
    }
  }
}
