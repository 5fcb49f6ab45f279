package vmafs.cli;

/** Whether output goes to a person. The launcher script tells us, since Java cannot ask isatty(2). */
final class Terminal {
  private Terminal() {}

  static boolean stderrIsTerminal() {
    return "1".equals(System.getProperty("vmafs.stderr.tty"));
  }
}
