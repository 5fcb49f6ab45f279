package vmafs.cli.log;

import java.io.PrintStream;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import org.slf4j.event.Level;

/**
 * Where and how much the vmafs command logs. Lines look like the CLI's own messages
 * ({@code vmafs: warning: …}); a background mount server writes to its log file with timestamps.
 * Switchable at any time, unlike backends configured once when the first logger is created.
 */
public final class CliLogging {
  private static volatile Level threshold = Level.WARN;
  private static volatile boolean timestamps;
  private static volatile PrintStream out;

  private CliLogging() {}

  /** Log this level and above: WARN by default, INFO with -v, DEBUG with --debug. */
  public static void setThreshold(Level level) {
    threshold = level;
  }

  /** Log lines with date and time (the background server's log file). */
  public static void setTimestamps(boolean on) {
    timestamps = on;
  }

  /** Where lines go; null means the current {@code System.err}. */
  public static void setOutput(PrintStream stream) {
    out = stream;
  }

  static boolean enabled(Level level) {
    return level.toInt() >= threshold.toInt();
  }

  static void write(Level level, String logger, String message, Throwable t) {
    StringBuilder sb = new StringBuilder();
    if (timestamps) {
      sb.append(LocalDateTime.now().format(DateTimeFormatter.ISO_LOCAL_DATE_TIME)).append(' ');
    }
    sb.append("vmafs: ");
    switch (level) {
      case ERROR -> sb.append("error: ");
      case WARN -> sb.append("warning: ");
      case DEBUG, TRACE -> sb.append("debug: [").append(Thread.currentThread().getName()).append("] ")
          .append(logger.substring(logger.lastIndexOf('.') + 1)).append(": ");
      default -> { }
    }
    sb.append(Printable.of(message)); // messages quote paths and names an archive may choose
    PrintStream p = out != null ? out : System.err;
    synchronized (CliLogging.class) {
      p.println(sb);
      if (t != null && enabled(Level.DEBUG)) {
        t.printStackTrace(p);
      }
      p.flush();
    }
  }
}
