package vmafs.cli;

import java.io.BufferedReader;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Servers that run in the background ({@code mount}, {@code nbd} without {@code -f}): started
 * detached ({@code setsid}), they report on stdout until they print {@link #READY}, then move their
 * output to a log file. The caller is either this class ({@code java -jar vmafs.jar mount …}) or the
 * {@code vmafs} launcher script, which starts the server itself to save a JVM start.
 */
final class Daemon {
  /**
   * The line a background server prints on stdout once it serves (read by {@link #spawn} and by the
   * launcher script).
   */
  static final String READY = "\u0001vmafs-ready";

  private Daemon() {}

  /**
   * Starts {@code vmafs ARGS} as a detached server, forwards its stderr (progress, warnings,
   * errors) and stdout until it reports readiness, and returns its verdict: 0 once it serves, its
   * exit code if it ended before.
   */
  static int spawn(List<String> args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add("setsid");
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(Main.class.getName());
    cmd.addAll(args);
    Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
    Thread shutdown = new Thread(p::destroy); // Ctrl-C while indexing stops the server too
    Runtime.getRuntime().addShutdownHook(shutdown);
    Thread err = forward(p.getErrorStream(), System.err);
    boolean ready = false;
    try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = out.readLine()) != null) {
        if (line.equals(READY)) {
          ready = true;
          break;
        }
        System.out.println(line);
      }
    }
    System.out.flush();
    Runtime.getRuntime().removeShutdownHook(shutdown);
    if (ready) {
      err.join(2000);
      return ExitCodes.OK;
    }
    int code = p.waitFor();
    err.join(2000);
    return code == 0 ? ExitCodes.INTERNAL : code;
  }

  private static Thread forward(InputStream in, PrintStream to) {
    Thread t = new Thread(() -> {
      byte[] buf = new byte[8192];
      try {
        int n;
        while ((n = in.read(buf)) > 0) {
          to.write(buf, 0, n);
          to.flush();
        }
      } catch (IOException e) {
        // the server closed its stderr: nothing more to forward
      }
    }, "vmafs-forward-stderr");
    t.setDaemon(true);
    t.start();
    return t;
  }

  /** In the server: tells whoever started it that it serves, then logs to {@code logFile}. */
  static void ready(Path logFile) throws IOException {
    System.out.println(READY);
    System.out.flush();
    detach(logFile);
  }

  /** A background server stops writing to the terminal: its output goes to the log file. */
  private static void detach(Path logFile) throws IOException {
    Files.createDirectories(logFile.toAbsolutePath().getParent());
    Posix.redirectStdoutAndStderr(logFile.toString());
    PrintStream ps = new PrintStream(new FileOutputStream(logFile.toFile(), true), true, StandardCharsets.UTF_8);
    System.setOut(ps);
    System.setErr(ps);
    vmafs.cli.log.CliLogging.setOutput(ps);
    vmafs.cli.log.CliLogging.setTimestamps(true);
  }
}
