package vmafs.source.zstd;

import java.util.Arrays;

/**
 * The restart points of a zstd archive as a decode pass accepts them: append-only, in stream
 * order. A point's span ends where the next one starts; it is <em>closed</em> (its compressed end
 * and its chunk checksums known) once the pass has verified it up to there. {@link #count()} and
 * {@link #closedCount()} are published after the data they cover, so a reader may use any point
 * and span below them while the pass is still running (what serving reads during the pass needs);
 * {@link #snapshot()} copies the closed spans, for a finished map or for one over the stream
 * decoded so far. "Is offset X decodable yet?" is {@code X < decodableEnd()}: every byte below it
 * lies in a closed span, verified against the pass's output and covered by chunk CRCs, and stays
 * so (points are never removed once closed).
 */
final class RestartPoints {
  /** One accepted point, as the finder hands it over. */
  record Point(long cOff, long uOff, int windowDescriptor, int prefixLength, long prefixOffset,
      int prefixStored) {}

  /** Closed spans, copied; arrays are exactly {@code count} long. */
  record Snapshot(long[] cOff, long[] cEnd, long[] uOff, int[] windowDescriptor,
      int[] prefixLength, long[] prefixOffset, int[] prefixStored, long end, int[] chunkCrcs) {
    int count() {
      return cOff.length;
    }
  }

  private long[] cOff = new long[64];
  private long[] cEnd = new long[64];
  private long[] uOff = new long[64];
  private long[] prefixOffset = new long[64];
  private int[] windowDescriptor = new int[64];
  private int[] prefixLength = new int[64];
  private int[] prefixStored = new int[64];
  private int[] crcs = new int[1024];
  private int crcCount;
  private volatile int count;
  private volatile int closed;
  /** Uncompressed end of the last closed span; written under the lock, read without it. */
  private volatile long end;

  synchronized void add(Point p) {
    if (count != closed || p.uOff() != end) {
      throw new IllegalStateException("restart point at " + p.uOff() + " does not follow the span"
          + " ending at " + end + " (" + count + " points, " + closed + " closed)");
    }
    if (count == cOff.length) {
      int n = 2 * count;
      cOff = Arrays.copyOf(cOff, n);
      cEnd = Arrays.copyOf(cEnd, n);
      uOff = Arrays.copyOf(uOff, n);
      prefixOffset = Arrays.copyOf(prefixOffset, n);
      windowDescriptor = Arrays.copyOf(windowDescriptor, n);
      prefixLength = Arrays.copyOf(prefixLength, n);
      prefixStored = Arrays.copyOf(prefixStored, n);
    }
    int i = count;
    cOff[i] = p.cOff();
    cEnd[i] = -1;
    uOff[i] = p.uOff();
    windowDescriptor[i] = p.windowDescriptor();
    prefixLength[i] = p.prefixLength();
    prefixOffset[i] = p.prefixOffset();
    prefixStored[i] = p.prefixStored();
    count = i + 1;
  }

  /** Closes the open span at compressed offset {@code compressedEnd}, uncompressed {@code uEnd}. */
  synchronized void close(long compressedEnd, long uEnd, int[] spanCrcs) {
    int i = count - 1;
    if (i < 0 || closed != i || uEnd <= uOff[i]) {
      throw new IllegalStateException("no open span to close at " + uEnd);
    }
    if (crcCount + spanCrcs.length > crcs.length) {
      crcs = Arrays.copyOf(crcs, Math.max(2 * crcs.length, crcCount + spanCrcs.length));
    }
    System.arraycopy(spanCrcs, 0, crcs, crcCount, spanCrcs.length);
    crcCount += spanCrcs.length;
    cEnd[i] = compressedEnd;
    end = uEnd;
    closed = i + 1;
  }

  /** Drops the open span's point (a frame that turned out to be empty). */
  synchronized void dropOpen() {
    if (count == closed + 1) {
      count = closed;
    }
  }

  int count() {
    return count;
  }

  int closedCount() {
    return closed;
  }

  /** Uncompressed offset where the open span starts, or the end of the closed ones. */
  long end() {
    return end;
  }

  /**
   * The uncompressed offset below which every byte can be read through the closed spans:
   * published after their records and checksums, so a reader that sees it can take a {@link
   * #snapshot()} that covers it. Never decreases.
   */
  long decodableEnd() {
    return end;
  }

  synchronized Snapshot snapshot() {
    int n = closed;
    return new Snapshot(Arrays.copyOf(cOff, n), Arrays.copyOf(cEnd, n), Arrays.copyOf(uOff, n),
        Arrays.copyOf(windowDescriptor, n), Arrays.copyOf(prefixLength, n),
        Arrays.copyOf(prefixOffset, n), Arrays.copyOf(prefixStored, n), end,
        Arrays.copyOf(crcs, crcCount));
  }
}
