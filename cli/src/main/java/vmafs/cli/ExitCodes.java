package vmafs.cli;

/** The process exit codes, listed in every command's --help and in the README. */
public final class ExitCodes {
  /** Success. */
  public static final int OK = 0;
  /** An internal error (a bug): please report it with the --debug output. */
  public static final int INTERNAL = 1;
  /** Bad command line, or a name (config, device) that the archive does not have. */
  public static final int USAGE = 2;
  /** The archive is malformed: a field is wrong or the file is truncated. */
  public static final int MALFORMED = 3;
  /** The archive is well formed but incomplete: missing, duplicate or out-of-range clusters. */
  public static final int INCOMPLETE = 4;
  /** The environment failed: a file cannot be read or written, FUSE is unavailable, no space. */
  public static final int ENVIRONMENT = 5;

  /** For the "Exit codes:" section of every command's --help. */
  static java.util.Map<String, String> helpList() {
    java.util.Map<String, String> m = new java.util.LinkedHashMap<>();
    m.put(" 0", "Success.");
    m.put(" 1", "Internal error (a bug; rerun with --debug and report it).");
    m.put(" 2", "Usage error, or a config/device name the archive does not have.");
    m.put(" 3", "Malformed archive (the message names the field and the offset).");
    m.put(" 4", "Incomplete archive: missing, duplicate or out-of-range clusters.");
    m.put(" 5", "Environment error: I/O, permissions, FUSE, disk space.");
    return m;
  }

  private ExitCodes() {}
}
