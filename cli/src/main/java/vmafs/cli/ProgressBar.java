package vmafs.cli;

import java.io.PrintStream;
import java.util.Locale;
import vmafs.vma.Progress;

/**
 * A one-line progress bar on stderr with throughput and ETA, drawn only on a terminal and only for
 * work that lasts more than a second (so scripts and quick commands see nothing).
 */
final class ProgressBar implements Progress, AutoCloseable {
  private static final long SHOW_AFTER_NANOS = 1_000_000_000L;
  private static final long REDRAW_NANOS = 200_000_000L;

  private final PrintStream err;
  private final String label;
  private final long total;
  private final boolean enabled;
  private final long start = System.nanoTime();
  private long lastDraw;
  private boolean drawn;

  /** @param total the amount of work in bytes, or -1 when unknown (a pipe) */
  ProgressBar(String label, long total) {
    this.err = System.err;
    this.label = label;
    this.total = total;
    this.enabled = Terminal.stderrIsTerminal();
  }

  @Override
  public void update(long done) {
    if (!enabled) {
      return;
    }
    long now = System.nanoTime();
    if (now - start < SHOW_AFTER_NANOS || now - lastDraw < REDRAW_NANOS) {
      return;
    }
    lastDraw = now;
    drawn = true;
    double secs = (now - start) / 1e9;
    double rate = done / secs;
    StringBuilder sb = new StringBuilder("\r").append(label).append(' ');
    if (total > 0) {
      double f = Math.min(1.0, (double) done / total);
      int width = 30;
      int fill = (int) (f * width);
      sb.append('[').append("#".repeat(fill)).append(" ".repeat(width - fill)).append("] ");
      sb.append(String.format(Locale.ROOT, "%5.1f%% ", f * 100));
      sb.append(Units.bytes(done)).append(" / ").append(Units.bytes(total));
      if (rate > 0 && done < total) {
        sb.append(String.format(Locale.ROOT, "  %s/s  ETA %s", Units.bytes((long) rate),
            Units.duration((long) ((total - done) / rate))));
      }
    } else {
      sb.append(Units.bytes(done)).append(String.format(Locale.ROOT, "  %s/s", Units.bytes((long) rate)));
    }
    sb.append("\033[K");
    err.print(sb);
    err.flush();
  }

  @Override
  public void close() {
    if (drawn) {
      err.print("\r\033[K");
      err.flush();
    }
  }
}
