package vmafs.remote;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import vmafs.vma.io.StoredBytes;

/**
 * An archive in object storage or behind HTTP, read by range requests in fixed-size pieces.
 *
 * <p>Positional reads go through a piece cache bounded by bytes: a read takes the pieces it
 * overlaps from the cache, and the pieces it lacks are fetched by a pool of
 * {@link RemoteOptions#parallelism()} threads at once, so a large read becomes parallel range
 * requests. Readers that ask for the same missing piece share one request. A read that starts where
 * an earlier read ended is sequential: the next {@link RemoteOptions#readAheadPieces()} pieces are
 * fetched before they are asked for. {@link #openSequential} is one streaming GET instead, for one
 * pass over the whole object.
 *
 * <p>Every request after the first carries the version seen by the first (If-Match) and checks the
 * answer's version, so bytes of two versions of the object are never mixed: a changed object fails
 * the read with {@link RemoteAccessException.Reason#CHANGED}.
 */
public abstract sealed class RemoteStoredBytes implements StoredBytes permits S3StoredBytes, HttpStoredBytes {
  private static final Logger log = LoggerFactory.getLogger(RemoteStoredBytes.class);
  /** End positions of recent reads; a read starting at one of them is sequential. */
  private static final int STREAMS_TRACKED = 16;
  /** Skips up to this size are read through on a sequential stream; longer ones reopen it there. */
  private static final long SKIP_REOPEN = 16L << 20;
  /**
   * A read this far past where an earlier one ended still continues its run: an uncompressed
   * archive read in order skips the 512-byte extent headers between the clusters it wants.
   */
  private static final long RUN_GAP = 64 << 10;
  /**
   * Reads outside a sequential run up to this many pieces long are one request of exactly their
   * range (the spans compressed sources decode are smaller: a seekable frame, an lzop block);
   * longer ones are split into pieces fetched in parallel.
   */
  private static final long EXACT_MAX_PIECES = 2;
  /**
   * Reads shorter than a sector take their piece instead: they are header walks (a zstd file's
   * block headers, read 3 bytes at a time every ~50 KiB), where one piece answers dozens of them
   * and an exact range each would be a request each.
   */
  private static final long EXACT_MIN = 4096;
  /**
   * What a streaming GET keeps of the pieces it has passed, for positional reads behind it: the
   * zstd restart finder reads the compressed bytes of the spans it verifies once more, up to the
   * 32 MiB of output its ring holds behind the pass (in the server's heap bound:
   * REMOTE_PASS_ROOM, docs/design.md).
   */
  static final long STREAM_TAIL = 32L << 20;

  private final String name;
  private final long size;
  private final String versionTag;
  final RemoteOptions options;
  final TransferCounters counters;
  final Retrier retrier;
  private final int pieceSize;
  private final long lastPiece;
  private final Cache<Long, byte[]> pieces;
  /**
   * The pieces fetched last, read-ahead included, outside the cache's admission policy: W-TinyLFU
   * may refuse a new piece in favour of often-read old ones, and a sequential reader would then
   * fetch each piece again for its next small read, and each read-ahead piece before it is read.
   */
  private final java.util.Map<Long, byte[]> recent;
  /** Pieces being fetched: a reader that needs one waits for the request already under way. */
  private final ConcurrentHashMap<Long, CompletableFuture<byte[]>> inFlight = new ConcurrentHashMap<>();
  /** Exact-range reads under way, failed by {@link #close} as pieces in flight are. */
  private final java.util.Set<CompletableFuture<byte[]>> exactInFlight = ConcurrentHashMap.newKeySet();
  private final ExecutorService fetchers;
  private final long[] recentEnds = new long[STREAMS_TRACKED];
  /** Where the run of reads ending at {@code recentEnds[i]} began. */
  private final long[] runStarts = new long[STREAMS_TRACKED];
  private int recentNext;
  /** Why the object is no longer the version opened, once a request has found out. */
  private volatile String changedReason;
  /** The last pieces a streaming GET passed ({@link #STREAM_TAIL}), outside the cache's policy. */
  private final java.util.Map<Long, byte[]> streamed;
  /** Where the streaming GET under way is (its next byte), or -1: pieces from there on are coming. */
  private volatile long streamHead = -1;

  RemoteStoredBytes(Opened opened, RemoteOptions options, TransferCounters counters, Retrier retrier) {
    this.name = opened.name();
    this.size = opened.size();
    this.versionTag = opened.versionTag();
    this.options = options;
    this.counters = counters;
    this.retrier = retrier;
    this.pieceSize = options.pieceSize();
    this.lastPiece = size == 0 ? -1 : (size - 1) / pieceSize;
    this.fetchers = Executors.newFixedThreadPool(options.parallelism(), daemonThreads());
    this.pieces = Caffeine.newBuilder()
        .maximumWeight(options.cacheBytes())
        .weigher((Long k, byte[] v) -> v.length)
        .executor(Runnable::run)
        .build();
    this.recent = boundedMap(options.readAheadPieces() + 2 * options.parallelism() + 2);
    this.streamed = boundedMap((int) Math.max(2, STREAM_TAIL / pieceSize));
    java.util.Arrays.fill(recentEnds, -1);
    byte[] first = opened.firstPiece();
    if (first != null && first.length == pieceLength(0)) {
      keep(0L, first);
    }
  }

  /** The last {@code keep} pieces put or read, by piece index. */
  private static java.util.Map<Long, byte[]> boundedMap(int keep) {
    return java.util.Collections.synchronizedMap(new java.util.LinkedHashMap<>(2 * keep, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(java.util.Map.Entry<Long, byte[]> eldest) {
        return size() > keep;
      }
    });
  }

  /** What the opening request learnt: the object's size and version, and its first piece if fetched. */
  record Opened(String name, long size, String versionTag, byte[] firstPiece) {}

  @Override
  public final String name() {
    return name;
  }

  @Override
  public final long size() {
    return size;
  }

  /** The ETag (HTTP: the ETag, else the Last-Modified date) the archive had when opened. */
  @Override
  public final String versionTag() {
    return versionTag;
  }

  /** Requests, bytes and retries so far. */
  public final TransferStats stats() {
    return counters.snapshot();
  }

  public final int pieceSize() {
    return pieceSize;
  }

  @Override
  public final int read(long position, ByteBuffer dst) throws IOException {
    if (position < 0) {
      throw new IllegalArgumentException("negative position " + position);
    }
    if (!dst.hasRemaining()) {
      return 0;
    }
    if (position >= size) {
      return -1;
    }
    long end = Math.min(size, position + dst.remaining());
    long first = position / pieceSize;
    // Bounded so that one huge read cannot hold more than a few pieces per fetch thread in memory;
    // readFully asks again for the rest.
    long last = Math.min((end - 1) / pieceSize, first + 2L * options.parallelism() - 1);
    end = Math.min(end, (last + 1) * pieceSize);
    boolean sequential = sequential(position, end);
    long len = end - position;
    if (!sequential && len >= EXACT_MIN && len <= EXACT_MAX_PIECES * pieceSize && !allCached(first, last)) {
      return readExact(position, end, dst);
    }

    CompletableFuture<?>[] wanted = new CompletableFuture<?>[(int) (last - first + 1)];
    for (long p = first; p <= last; p++) {
      wanted[(int) (p - first)] = piece(p, true);
    }
    if (sequential) {
      // A reader behind a streaming GET does not fetch the pieces the stream is about to pass: it
      // keeps them.
      long head = streamHead;
      long ahead = Math.min(lastPiece, last + options.readAheadPieces());
      if (head >= 0 && last < head / pieceSize) {
        ahead = Math.min(ahead, head / pieceSize - 1);
      }
      for (long p = last + 1; p <= ahead; p++) {
        piece(p, false);
      }
    }
    int copied = 0;
    for (long p = first; p <= last; p++) {
      byte[] data = await(wanted[(int) (p - first)]);
      long pieceStart = p * pieceSize;
      int from = (int) (Math.max(position, pieceStart) - pieceStart);
      int to = (int) (Math.min(end, pieceStart + data.length) - pieceStart);
      dst.put(data, from, to - from);
      copied += to - from;
    }
    return copied;
  }

  private boolean allCached(long first, long last) {
    for (long p = first; p <= last; p++) {
      if (cached(p) == null) {
        return false;
      }
    }
    return true;
  }

  /**
   * A read that is no part of a sequential run: exactly its bytes in one request, not the aligned
   * pieces around them. A compressed source asks for the span it decodes (a seekable zstd frame,
   * an lzop block, a gzip checkpoint span) in one call, so a cold random read costs one request of
   * that span; whole pieces would cost a MiB, and two requests where the span crosses a piece
   * boundary. Not cached here: the caller caches what it decodes from it.
   */
  private int readExact(long position, long end, ByteBuffer dst) throws IOException {
    int len = (int) (end - position);
    CompletableFuture<byte[]> result = new CompletableFuture<>();
    // On a fetch thread, as pieces are, so that close() can release a reader whose request stalls.
    exactInFlight.add(result);
    try {
      fetchers.execute(() -> {
        try {
          byte[] data = fetch(position, len);
          counters.rangeFetched();
          result.complete(data);
        } catch (IOException | RuntimeException e) {
          result.completeExceptionally(failure(e));
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      result.completeExceptionally(new PieceFailure(new IOException(name + ": closed")));
    }
    try {
      dst.put(await(result));
    } finally {
      exactInFlight.remove(result);
    }
    return len;
  }

  /**
   * One streaming GET from {@code position} to the end. A dropped connection is resumed where it
   * broke (a new ranged GET with If-Match, under the same retry rules); skips are read through.
   */
  @Override
  public final InputStream openSequential(long position) throws IOException {
    if (position < 0 || position > size) {
      throw new IllegalArgumentException("position " + position + " outside 0.." + size);
    }
    return new SequentialStream(position);
  }

  /**
   * Whether a read [position, end) continues an earlier one and the run of reads it continues
   * has covered a piece; records its end either way. A few small reads in a row (a partition
   * table's sectors, a file system's superblock) are no sequential reader worth 8 pieces of
   * read-ahead. Only a read of a sector or more continues a run across a gap: a header walk
   * (3 bytes every ~50 KiB of a zstd file) is no sequential reader either, and read-ahead for it
   * cost a remount from S3 14 requests instead of 6.
   */
  private synchronized boolean sequential(long position, long end) {
    long gap = end - position >= EXACT_MIN ? RUN_GAP : 0;
    for (int i = 0; i < recentEnds.length; i++) {
      if (recentEnds[i] >= 0 && position >= recentEnds[i] && position - recentEnds[i] <= gap) {
        recentEnds[i] = end;
        return end - runStarts[i] >= pieceSize;
      }
    }
    recentEnds[recentNext] = end;
    runStarts[recentNext] = position;
    recentNext = (recentNext + 1) % recentEnds.length;
    return false;
  }

  private void keep(long index, byte[] data) {
    pieces.put(index, data);
    recent.put(index, data);
  }

  private byte[] cached(long index) {
    byte[] data = recent.get(index);
    if (data == null) {
      data = streamed.get(index);
    }
    if (data == null) {
      data = pieces.getIfPresent(index);
      if (data != null) {
        recent.put(index, data);
      }
    }
    return data;
  }

  private CompletableFuture<byte[]> piece(long index, boolean demanded) {
    byte[] cached = cached(index);
    if (cached != null) {
      if (demanded) {
        counters.cacheHit();
      }
      return CompletableFuture.completedFuture(cached);
    }
    CompletableFuture<byte[]> mine = new CompletableFuture<>();
    CompletableFuture<byte[]> running = inFlight.putIfAbsent(index, mine);
    if (running != null) {
      return running;
    }
    cached = cached(index); // it may have arrived between the two looks
    if (cached != null) {
      inFlight.remove(index, mine);
      mine.complete(cached);
      return mine;
    }
    try {
      fetchers.execute(() -> fetchInto(index, mine));
    } catch (java.util.concurrent.RejectedExecutionException e) {
      inFlight.remove(index, mine);
      mine.completeExceptionally(new PieceFailure(new IOException(name + ": closed")));
    }
    return mine;
  }

  /**
   * Fetches a piece and hands it to its waiters. Failures are not cached: the next read of the
   * piece tries again (the retrier already tried before giving up).
   */
  private void fetchInto(long index, CompletableFuture<byte[]> result) {
    try {
      byte[] data = fetch(index * pieceSize, pieceLength(index));
      counters.pieceFetched();
      keep(index, data);
      inFlight.remove(index, result);
      result.complete(data);
    } catch (IOException | RuntimeException e) {
      inFlight.remove(index, result);
      result.completeExceptionally(failure(e));
    }
  }

  /** One range request of exactly {@code len} bytes at {@code start}, retried as the policy says. */
  private byte[] fetch(long start, int len) throws IOException {
    byte[] data = new byte[len];
    retrier.run(name, () -> {
      fetchRange(start, data, len);
      return null;
    });
    return data;
  }

  /** A failed fetch as its waiters get it; a changed object is noted for {@link #changed}. */
  private PieceFailure failure(Exception e) {
    noteChange(e);
    return new PieceFailure(e instanceof IOException io ? io
        : new IOException(name + ": range request failed: " + e, e));
  }

  private void noteChange(Exception e) {
    if (e instanceof RemoteAccessException r && r.reason() == RemoteAccessException.Reason.CHANGED) {
      changedReason = "the object was replaced or changed since it was opened (" + r.getMessage() + ")";
    }
  }

  /**
   * What the requests have seen: every request carries the version opened (If-Match) and checks
   * the answer's, so a replaced object is noticed by the next request that reaches the store. No
   * request of its own: a mount's watcher asks once a second.
   */
  @Override
  public final String changed() {
    return changedReason;
  }

  private int pieceLength(long index) {
    return (int) Math.min(pieceSize, size - index * pieceSize);
  }

  private byte[] await(CompletableFuture<?> f) throws IOException {
    try {
      return (byte[]) f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException(name + ": interrupted while waiting for a range request");
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof PieceFailure pf) {
        throw pf.io;
      }
      throw new IOException(name + ": range request failed: " + c, c);
    }
  }

  /** Carries a fetch's IOException through the CompletableFuture to the reader. */
  private static final class PieceFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final transient IOException io;

    PieceFailure(IOException io) {
      super(io.getMessage(), io, false, false);
      this.io = io;
    }
  }

  /**
   * Fetches exactly {@code len} bytes at {@code start} of the version {@link #versionTag()} into
   * {@code dst}, with one request; throws {@link RemoteAccessException} (retryable or not) otherwise.
   */
  abstract void fetchRange(long start, byte[] dst, int len) throws IOException;

  /** One request for the bytes from {@code start} to the end of the version {@link #versionTag()}. */
  abstract InputStream fetchStream(long start) throws IOException;

  /** Releases the client behind the requests. */
  abstract void closeTransport() throws IOException;

  /** Logs a finished request: at info, so that {@code -v} shows every request. */
  final void logRequest(String what, String range, String answer, long bytes, long startNanos) {
    if (log.isInfoEnabled()) {
      log.info("{} {} {}: {}, {} bytes, {} ms", what, name, range, answer, bytes,
          (System.nanoTime() - startNanos) / 1_000_000);
    }
  }

  /**
   * Stops the fetch threads and fails the reads still waiting for a piece (their request may be
   * blocked in a socket read that an interrupt does not end).
   */
  @Override
  public void close() throws IOException {
    fetchers.shutdownNow();
    for (Long index : inFlight.keySet()) {
      CompletableFuture<byte[]> f = inFlight.remove(index);
      if (f != null) {
        f.completeExceptionally(new PieceFailure(new IOException(name + ": closed while reading")));
      }
    }
    for (CompletableFuture<byte[]> f : exactInFlight) {
      f.completeExceptionally(new PieceFailure(new IOException(name + ": closed while reading")));
    }
    pieces.invalidateAll();
    recent.clear();
    streamed.clear();
    closeTransport();
  }

  private static ThreadFactory daemonThreads() {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, "vmafs-remote-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /**
   * The streaming GET behind {@link #openSequential}: counts bytes, resumes after a drop, and keeps
   * the whole pieces it passes ({@link #STREAM_TAIL}).
   */
  private final class SequentialStream extends InputStream {
    private long position;
    private byte[] skipBuffer;
    private InputStream body;
    private boolean closed;
    /** The piece being filled from the stream (it started at a piece boundary), or null. */
    private byte[] piece;
    private long pieceIndex;
    private int pieceFill;

    SequentialStream(long position) throws IOException {
      this.position = position;
      if (position < size) {
        body = retrier.run(name, () -> fetchStream(position));
      }
      moved();
    }

    /** Where the stream is now; at the end it is no longer coming (a stream left open there). */
    private void moved() {
      streamHead = position < size ? position : -1;
    }

    /** Copies what was just read at {@code at} into the piece it belongs to; keeps full pieces. */
    private void tail(byte[] b, int off, int n, long at) {
      while (n > 0) {
        long index = at / pieceSize;
        int within = (int) (at - index * pieceSize);
        if (piece == null || index != pieceIndex || within != pieceFill) {
          piece = within == 0 ? new byte[pieceLength(index)] : null;
          pieceIndex = index;
          pieceFill = 0;
        }
        int k = (int) Math.min(n, pieceLength(index) - within);
        if (piece != null) {
          System.arraycopy(b, off, piece, pieceFill, k);
          pieceFill += k;
          if (pieceFill == piece.length) {
            streamed.put(index, piece);
            piece = null;
            pieceFill = 0;
          }
        }
        off += k;
        n -= k;
        at += k;
      }
    }

    @Override
    public int read() throws IOException {
      return Responses.readByte(this);
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      java.util.Objects.checkFromIndexSize(off, len, b.length);
      if (closed) {
        throw new IOException(name + ": stream closed");
      }
      if (len == 0) {
        return 0;
      }
      if (position >= size) {
        return -1;
      }
      int want = (int) Math.min(len, size - position);
      int n;
      try {
        n = retrier.run(name, () -> readSome(b, off, want));
      } catch (IOException | RuntimeException e) {
        noteChange(e);
        throw e;
      }
      tail(b, off, n, position);
      position += n;
      moved();
      counters.received(n);
      return n;
    }

    /** One read from the body; a failure closes it, so that the retry reopens at {@link #position}. */
    private int readSome(byte[] b, int off, int len) throws IOException {
      if (body == null) {
        body = fetchStream(position);
      }
      try {
        int n = body.read(b, off, len);
        if (n < 0) {
          throw new RemoteAccessException(name, RemoteAccessException.Reason.NETWORK,
              "the connection ended at offset " + position + " of " + size);
        }
        return n;
      } catch (RemoteAccessException e) {
        dropBody();
        throw e;
      } catch (IOException e) {
        dropBody();
        throw new RemoteAccessException(name, RemoteAccessException.Reason.NETWORK,
            "connection lost at offset " + position + " (" + e.getMessage() + ")", e);
      }
    }

    private void dropBody() {
      InputStream b = body;
      body = null;
      if (b != null) {
        try {
          b.close();
        } catch (IOException ignored) {
          // The connection is already broken; a new one will be opened.
        }
      }
    }

    @Override
    public long skip(long n) throws IOException {
      long s = Math.max(0, Math.min(n, size - position));
      if (s >= SKIP_REOPEN) {
        dropBody();
        position += s;
        piece = null;
        moved();
        return s;
      }
      // Read through in large reads: InputStream.skip reads 2 KiB at a time, each a retrier call.
      if (skipBuffer == null) {
        skipBuffer = new byte[256 << 10];
      }
      long done = 0;
      while (done < s) {
        int got = read(skipBuffer, 0, (int) Math.min(skipBuffer.length, s - done));
        if (got < 0) {
          break;
        }
        done += got;
      }
      return done;
    }

    @Override
    public int available() throws IOException {
      return body == null ? 0 : body.available();
    }

    @Override
    public void close() {
      closed = true;
      dropBody();
      piece = null;
      streamHead = -1;
      streamed.clear(); // the pass that read behind it is over
    }
  }
}
