package vmafs.cli;

import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;
import vmafs.archive.IndexLocation;

/**
 * Servers that run in the background ({@code mount}, {@code nbd} without {@code -f}): started
 * detached ({@code setsid}), they report on stdout until they print {@link #READY}, then move their
 * output to a log file. The caller is either this class ({@code java -jar vmafs.jar mount …}) or the
 * {@code vmafs} launcher script, which starts the server itself to save a JVM start. Either way the
 * server gets exactly the arguments the user gave, plus {@code --daemon-child}: no option is
 * re-serialised by hand (that once lost {@code --spill-max}).
 */
final class Daemon {
  /**
   * The line a background server prints on stdout once it serves (read by {@link #spawn} and by the
   * launcher script).
   */
  static final String READY = "\u0001vmafs-ready";

  private Daemon() {}

  /**
   * Starts the command being run ({@code spec}) again as a detached server, with the arguments it
   * was given and a maximum heap of {@code heapMib} (ServerOptions#heapBoundMib; 0: the JVM's
   * default): see {@link
   * #spawn(List, long)}.
   */
  static int spawn(CommandSpec spec, long heapMib) throws IOException, InterruptedException {
    return spawn(childArgs(spec), heapMib);
  }

  /**
   * The arguments of the command being run, for its server: the original command line with {@code
   * --daemon-child} after the command's name. The server starts in this directory, so relative
   * paths mean the same.
   */
  static List<String> childArgs(CommandSpec spec) {
    ParseResult parsed = spec.commandLine().getParseResult();
    List<String> all = parsed.originalArgs();
    List<String> own = parsed.expandedArgs();
    // Options given before the command name (vmafs -v mount ...) stay there.
    List<String> a = new ArrayList<>(all.subList(0, Math.max(0, all.size() - own.size() - 1)));
    a.add(spec.name());
    a.add("--daemon-child");
    a.addAll(own);
    return a;
  }

  /**
   * Starts {@code vmafs ARGS} as a detached server, forwards its stderr (progress, warnings,
   * errors) and stdout until it reports readiness, and returns its verdict: 0 once it serves, its
   * exit code if it ended before. The server gets this JVM's options and {@code -Xmx<heapMib>m},
   * unless those options set the heap already (the user's choice wins, as in the launcher, which
   * starts the server itself and computes the same bound).
   */
  static int spawn(List<String> args, long heapMib) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add("setsid");
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    List<String> jvm = ManagementFactory.getRuntimeMXBean().getInputArguments();
    cmd.addAll(jvm);
    if (heapMib > 0
        && jvm.stream().noneMatch(o -> o.startsWith("-Xmx") || o.startsWith("-XX:MaxHeapSize="))) {
      cmd.add("-Xmx" + heapMib + "m");
    }
    // Direct memory (index tables while they are built) defaults to the maximum heap; it keeps the
    // JVM's default instead, a quarter of RAM.
    if (jvm.stream().noneMatch(o -> o.startsWith("-XX:MaxDirectMemorySize="))) {
      long ram = ManagementFactory.getPlatformMXBean(com.sun.management.OperatingSystemMXBean.class)
          .getTotalMemorySize();
      cmd.add("-XX:MaxDirectMemorySize=" + Math.max(64, ram / 4 >> 20) + "m");
    }
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

  /**
   * In the server, before anything can fail that its caller must hear about: opens the log it will
   * write once detached (never through a planted link, see {@link Posix#openLog}), so that a log
   * that cannot be opened fails the start instead of the server after READY.
   *
   * @param explicit {@code --log-file}, or null for a file named after {@code kind} and {@code
   *     what} in the cache directory's {@code log/} (0700), or a new private temporary file when no
   *     cache directory is safe
   * @return the descriptor for {@link #ready}
   */
  static int openLog(Path explicit, String kind, Path what) throws IOException {
    return Posix.openLog(logFile(explicit, kind, what));
  }

  private static Path logFile(Path explicit, String kind, Path what) throws IOException {
    if (explicit != null) {
      return explicit.toAbsolutePath();
    }
    String name = what.toAbsolutePath().normalize().toString().replaceAll("[^A-Za-z0-9._-]", "_");
    Path cache = IndexLocation.cacheDir();
    if (cache == null) {
      return Files.createTempFile("vmafs-" + kind + name + "-", ".log");
    }
    Path dir = cache.resolve("log");
    Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(
        PosixFilePermissions.fromString("rwx------")));
    return dir.resolve(kind + name + ".log");
  }

  /**
   * In the server: tells whoever started it that it serves, then writes its output to the log
   * opened by {@link #openLog}.
   */
  static void ready(int logFd) {
    System.out.println(READY);
    System.out.flush();
    Posix.redirectStdoutAndStderr(logFd);
    // Through the descriptors just redirected, not by opening the path again.
    PrintStream ps = new PrintStream(new FileOutputStream(FileDescriptor.out), true,
        StandardCharsets.UTF_8);
    System.setOut(ps);
    System.setErr(ps);
    vmafs.cli.log.CliLogging.setOutput(ps);
    vmafs.cli.log.CliLogging.setTimestamps(true);
  }
}
