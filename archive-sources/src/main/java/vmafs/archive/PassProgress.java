package vmafs.archive;

/**
 * How far an index pass is, in bytes of the archive file (compressed bytes for a compressed
 * archive: what the pass reads), for {@code vmafs status} and progress bars. Written by the pass's
 * thread, read by anyone.
 */
public final class PassProgress implements vmafs.vma.Progress {
  private final long total;
  private final long startNanos = System.nanoTime();
  private volatile long done;
  private volatile long endNanos;

  public PassProgress(long total) {
    this.total = total;
  }

  @Override
  public void update(long bytes) {
    done = Math.min(bytes, total);
  }

  /** The pass ended (cleanly or not): throughput stops counting. */
  void end() {
    endNanos = System.nanoTime();
  }

  public long done() {
    return done;
  }

  public long total() {
    return total;
  }

  public double seconds() {
    long end = endNanos;
    return ((end != 0 ? end : System.nanoTime()) - startNanos) / 1e9;
  }

  /** Archive bytes per second since the pass started. */
  public double bytesPerSecond() {
    double s = seconds();
    return s <= 0 ? 0 : done / s;
  }

  /** Seconds left at the throughput so far, or -1 when unknown (no progress yet, or ended). */
  public double etaSeconds() {
    double r = bytesPerSecond();
    return endNanos != 0 || r <= 0 ? -1 : (total - done) / r;
  }
}
