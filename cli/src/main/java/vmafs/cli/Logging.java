package vmafs.cli;

import java.util.List;

/**
 * Sets up slf4j-simple before the first logger exists: warnings and errors by default,
 * {@code -v/--verbose} adds info, {@code --debug} adds debug output and stack traces.
 */
final class Logging {
  private static boolean debug;

  private Logging() {}

  static void configure(List<String> args) {
    boolean verbose = args.contains("-v") || args.contains("--verbose");
    debug = args.contains("--debug");
    String level = debug ? "debug" : verbose ? "info" : "warn";
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", level);
    System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
    System.setProperty("org.slf4j.simpleLogger.showThreadName", Boolean.toString(debug));
    System.setProperty("org.slf4j.simpleLogger.showShortLogName", Boolean.toString(debug));
    System.setProperty("org.slf4j.simpleLogger.showLogName", "false");
    System.setProperty("org.slf4j.simpleLogger.showDateTime", Boolean.toString(debug));
    System.setProperty("org.slf4j.simpleLogger.levelInBrackets", "false");
    System.setProperty("org.slf4j.simpleLogger.warnLevelString", "warning:");
    System.setProperty("org.slf4j.simpleLogger.errorLevelString", "error:");
    System.setProperty("org.slf4j.simpleLogger.infoLevelString", "info:");
    System.setProperty("org.slf4j.simpleLogger.debugLevelString", "debug:");
  }

  static boolean debug() {
    return debug;
  }
}
