package vmafs.source.zstd;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdException;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import vmafs.source.CorruptArchiveException;
import vmafs.source.internal.BlockTable;
import vmafs.source.internal.ChunkChecksums;
import vmafs.vma.io.StoredBytes;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import vmafs.cache.BlockCache;
import vmafs.source.CorruptArchiveException.Part;
import vmafs.source.CorruptArchiveException.Where;
import vmafs.vma.io.ArchiveSource;

/**
 * Reads through zstd restart points ({@link ZstdRestartMap}). A span is decoded from its point on
 * by a <em>cursor</em> (a libzstd context primed with the point's prefix), one {@link #PIECE} at a
 * time; every piece is checked against the span's chunk CRCs before it is cached or served. A
 * read decodes only up to the piece it needs and keeps the cursor, so the next read further on in
 * the same span (a sequential reader, or the clustered reads of a file system) continues where it
 * stopped: each byte is decoded once. Pieces decoded on the way to another are cached too.
 *
 * <p>Memory stays bounded whatever the spans' length: the cache holds pieces, and at most {@link
 * #IDLE_CURSORS} idle cursors are kept (each holds the window of its span's frame, at most 8 MiB).
 */
final class ZstdRestartSource implements ArchiveSource {
  /** Cache unit: a multiple of the chunk size, so that a piece is verified on its own. */
  static final int PIECE = 256 << 10;
  private static final int IDLE_CURSORS = 4;
  private static final int INPUT_BUFFER = 256 << 10;

  private final String name;
  private final StoredBytes ch;
  private final RestartPoints.Snapshot points;
  private final PrefixStore prefixes;
  private final ChunkChecksums chunks;
  private final BlockCache cache;
  private final long sourceId;
  private final BlockTable table;
  private final ZstdContextPool contexts = new ZstdContextPool(IDLE_CURSORS + 2);
  private final ArrayDeque<Cursor> idle = new ArrayDeque<>();
  /** Buffers of closed cursors, for new ones: a cold read should not allocate 512 KiB natively. */
  private final ArrayDeque<ByteBuffer[]> spareBuffers = new ArrayDeque<>();
  private final ConcurrentHashMap<Long, CompletableFuture<byte[]>> loading = new ConcurrentHashMap<>();
  /**
   * The pieces read last, outside the cache: a reader asks for a piece several times in a row
   * (FUSE reads are smaller than a piece), and the cache's admission policy may turn a fresh
   * piece away; the cursor has moved on by then, so a miss would decode the span from its start.
   */
  private final AtomicReferenceArray<Recent> recent = new AtomicReferenceArray<>(4);
  private final AtomicInteger nextSlot = new AtomicInteger();
  /** Pieces decoded so far (tests check that each is decoded once). */
  final java.util.concurrent.atomic.AtomicLong piecesDecoded = new java.util.concurrent.atomic.AtomicLong();
  private volatile boolean closed;

  private record Recent(long key, byte[] piece) {}

  ZstdRestartSource(String name, StoredBytes ch, ZstdRestartMap map, PrefixStore prefixes,
      ChunkChecksums chunks, BlockCache cache) {
    this.name = name;
    this.ch = ch;
    this.points = map.points();
    this.prefixes = prefixes;
    this.chunks = chunks;
    this.cache = cache;
    this.sourceId = cache.newSourceId();
    this.table = new BlockTable(points.uOff(), points.end());
  }

  @Override
  public void readFully(long position, ByteBuffer dst) throws IOException {
    if (position < 0 || position > table.size() - dst.remaining()) {
      throw new EOFException(name + ": read of " + dst.remaining() + " bytes at offset " + position
          + " is outside the " + table.size() + "-byte uncompressed stream");
    }
    long pos = position;
    while (dst.hasRemaining()) {
      int span = table.indexOf(pos);
      long inSpan = pos - table.start(span);
      int piece = (int) (inSpan / PIECE);
      byte[] b = piece(span, piece);
      int from = (int) (inSpan - (long) piece * PIECE);
      int n = Math.min(dst.remaining(), b.length - from);
      dst.put(b, from, n);
      pos += n;
    }
  }

  private byte[] piece(int span, int piece) throws IOException {
    long key = table.start(span) + (long) piece * PIECE;
    for (int i = 0; i < recent.length(); i++) {
      Recent r = recent.get(i);
      if (r != null && r.key() == key) {
        return r.piece();
      }
    }
    byte[] b = cache.getIfPresent(new BlockCache.Key(sourceId, key));
    if (b == null) {
      b = load(span, piece, key);
    }
    recent.set(nextSlot.getAndIncrement() & (recent.length() - 1), new Recent(key, b));
    return b;
  }

  /** Decodes a piece, once however many readers want it at the same time. */
  private byte[] load(int span, int piece, long key) throws IOException {
    CompletableFuture<byte[]> mine = new CompletableFuture<>();
    CompletableFuture<byte[]> other = loading.putIfAbsent(key, mine);
    if (other != null) {
      return await(other);
    }
    try {
      byte[] b = cache.getIfPresent(new BlockCache.Key(sourceId, key)); // loaded meanwhile?
      if (b == null) {
        b = decode(span, piece);
      }
      mine.complete(b);
      return b;
    } catch (IOException | RuntimeException e) {
      mine.completeExceptionally(e);
      throw e;
    } finally {
      loading.remove(key, mine);
    }
  }

  private static byte[] await(CompletableFuture<byte[]> f) throws IOException {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while another read decoded this range");
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      throw new IOException(e.getCause());
    }
  }

  private byte[] decode(int span, int piece) throws IOException {
    Cursor c = takeCursor(span, piece);
    boolean keep = false;
    try {
      while (c.next < piece) {
        long k = table.start(span) + (long) c.next * PIECE;
        // Pieces on the way are cached if they verify; one that does not is not served, and
        // the piece asked for is checked on its own.
        byte[] on = c.decodeNext(false);
        if (on != null) {
          cache.put(new BlockCache.Key(sourceId, k), on);
        }
      }
      byte[] b = c.decodeNext(true);
      cache.put(new BlockCache.Key(sourceId, table.start(span) + (long) piece * PIECE), b);
      keep = true;
      return b;
    } finally {
      if (keep) {
        giveBack(c);
      } else {
        c.close();
      }
    }
  }

  /** The idle cursor of this span furthest on but not past the piece, or a new one. */
  private Cursor takeCursor(int span, int piece) throws IOException {
    synchronized (idle) {
      Cursor best = null;
      for (Cursor c : idle) {
        if (c.span == span && c.next <= piece && (best == null || c.next > best.next)) {
          best = c;
        }
      }
      if (best != null) {
        idle.remove(best);
        return best;
      }
    }
    return new Cursor(span);
  }

  private void giveBack(Cursor c) {
    if (closed || (long) c.next * PIECE >= table.length(c.span)) {
      c.close();
      return;
    }
    Cursor evicted = null;
    synchronized (idle) {
      idle.addFirst(c);
      if (idle.size() > IDLE_CURSORS) {
        evicted = idle.removeLast();
      }
    }
    if (evicted != null) {
      evicted.close();
    }
  }

  /** A decoder positioned inside one span. */
  private final class Cursor {
    final int span;
    int next;
    private final ByteBuffer[] buffers;
    private final ZstdBlockDecoder decoder;

    Cursor(int span) throws IOException {
      this.span = span;
      ByteBuffer[] b;
      synchronized (spareBuffers) {
        b = spareBuffers.pollFirst();
      }
      this.buffers = b != null ? b
          : new ByteBuffer[] {ByteBuffer.allocateDirect(INPUT_BUFFER), ByteBuffer.allocateDirect(PIECE)};
      ZstdBlockDecoder d;
      try {
        d = new ZstdBlockDecoder(ch, name, contexts, points.cOff()[span], points.cEnd()[span],
            points.windowDescriptor()[span], prefix(span), buffers[0]);
      } catch (IOException | RuntimeException e) {
        recycle();
        throw e;
      }
      this.decoder = d;
    }

    /**
     * Decodes and verifies the next piece of the span; one that fails its checksums is an error
     * if {@code required}, else null.
     */
    byte[] decodeNext(boolean required) throws IOException {
      long from = (long) next * PIECE;
      int len = (int) Math.min(PIECE, table.length(span) - from);
      ByteBuffer out = buffers[1].clear().limit(len);
      int n = decoder.fill(out);
      if (n != len) {
        throw new CorruptArchiveException(where(), "ends " + (from + n)
            + " bytes into its span instead of " + table.length(span) + " (at compressed offset "
            + points.cEnd()[span] + "); the archive or its saved index is damaged");
      }
      out.flip();
      if (!chunks.matchesAt(span, from, out)) {
        if (!required) {
          next++;
          return null;
        }
        throw new CorruptArchiveException(where(), "the bytes decoded at"
            + " uncompressed offsets " + (table.start(span) + from) + ".."
            + (table.start(span) + from + len) + " do not match their recorded CRC-32C; the"
            + " archive or its saved index is damaged (rebuild it with 'vmafs index --reindex')");
      }
      byte[] b = new byte[len];
      out.get(b);
      next++;
      piecesDecoded.incrementAndGet();
      return b;
    }

    /** The span, from its point to its compressed end. */
    private Where where() {
      return Where.of(name, Part.ZSTD_RESTART_SPAN, span, points.cOff()[span]);
    }

    void close() {
      decoder.close();
      recycle();
    }

    private void recycle() {
      synchronized (spareBuffers) {
        if (spareBuffers.size() < IDLE_CURSORS) {
          spareBuffers.addFirst(buffers);
        }
      }
    }
  }

  /** The prefix of a point, decompressed from where it is stored and checked. */
  private byte[] prefix(int span) throws IOException {
    int raw = points.prefixLength()[span];
    if (raw == 0) {
      return null;
    }
    byte[] stored = prefixes.read(points.prefixOffset()[span], points.prefixStored()[span]);
    try {
      byte[] p = Zstd.decompress(stored, raw);
      if (p.length != raw) {
        throw new ZstdException(-1, "decoded to " + p.length + " bytes, not " + raw);
      }
      return p;
    } catch (ZstdException e) {
      throw new CorruptArchiveException(Where.of(name, Part.ZSTD_RESTART_SPAN, span, points.cOff()[span]),
          "the stored prefix of its restart point is damaged (" + e.getMessage() + "); the saved index is damaged, rebuild it with"
          + " 'vmafs index --reindex'", e);
    }
  }

  @Override
  public long size() {
    return table.size();
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public void close() throws IOException {
    closed = true;
    synchronized (idle) {
      for (Iterator<Cursor> it = idle.iterator(); it.hasNext(); ) {
        it.next().close();
        it.remove();
      }
    }
    for (int i = 0; i < recent.length(); i++) {
      recent.set(i, null);
    }
    contexts.close();
    cache.invalidateSource(sourceId);
  }
}
