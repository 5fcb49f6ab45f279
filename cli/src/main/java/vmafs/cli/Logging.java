package vmafs.cli;

import java.util.List;
import org.slf4j.event.Level;
import vmafs.cli.log.CliLogging;

/**
 * Log levels from the command line, read before parsing so that they also apply to the parsing
 * itself: warnings and errors by default, {@code -v/--verbose} adds info, {@code --debug} adds
 * debugging detail and stack traces.
 */
final class Logging {
  private static boolean debug;

  private Logging() {}

  static void configure(List<String> args) {
    boolean verbose = args.contains("-v") || args.contains("--verbose");
    debug = args.contains("--debug");
    CliLogging.setThreshold(debug ? Level.DEBUG : verbose ? Level.INFO : Level.WARN);
  }

  static boolean debug() {
    return debug;
  }
}
