package vmafs.e2e;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A {@code vmafs nbd} server started for a test the way users start it (in the background), with
 * its own XDG_RUNTIME_DIR and XDG_CACHE_HOME; stopped with SIGTERM on close (SIGKILL if that
 * fails), even when the test failed.
 */
public final class Served implements AutoCloseable {
  private static final Pattern PID = Pattern.compile("\\(pid (\\d+);");
  private static final Pattern LISTENING = Pattern.compile("^  listening on (\\S+)$", Pattern.MULTILINE);

  private final long pid;
  private final String output;
  private final String errors;
  private final Map<String, String> env;

  private Served(long pid, String output, String errors, Map<String, String> env) {
    this.pid = pid;
    this.output = output;
    this.errors = errors;
    this.env = env;
  }

  /** The environment that keeps a server's socket, index copies and log inside {@code home}. */
  public static Map<String, String> env(Path home) throws IOException {
    Path run = Files.createDirectories(home.resolve("run"));
    Files.setPosixFilePermissions(run, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
    return Map.of("XDG_RUNTIME_DIR", run.toString(), "XDG_CACHE_HOME", Files.createDirectories(home.resolve("cache")).toString());
  }

  /** Runs {@code vmafs nbd ARGS… ARCHIVE} and returns once it listens (the command exited 0). */
  public static Served start(Path home, Path archive, String... args) throws IOException {
    return start(home, Map.of(), archive.toString(), args);
  }

  /** As {@link #start(Path, Path, String...)} for any ARCHIVE (an s3:// URL), with more environment. */
  public static Served start(Path home, Map<String, String> moreEnv, String archive, String... args)
      throws IOException {
    Map<String, String> env = new java.util.HashMap<>(env(home));
    env.putAll(moreEnv);
    List<String> a = new ArrayList<>(List.of("nbd"));
    a.addAll(List.of(args));
    a.add(archive);
    Run.Result r = Run.exec(Run.vmafsCommand(a.toArray(String[]::new)), null, env);
    Matcher m = PID.matcher(r.out());
    if (!m.find()) {
      fail("vmafs nbd did not report a server: exit " + r.code() + "\nstdout: " + r.out() + "\nstderr: " + r.err());
    }
    Served s = new Served(Long.parseLong(m.group(1)), r.out(), r.err(), env);
    if (r.code() != 0) {
      s.close();
      fail("exit code " + r.code() + "\nstdout: " + r.out() + "\nstderr: " + r.err());
    }
    return s;
  }

  public long pid() {
    return pid;
  }

  /** What the command printed: the summary with every address and export URI. */
  public String output() {
    return output;
  }

  /** What the command printed on stderr (warnings). */
  public String errors() {
    return errors;
  }

  public Map<String, String> env() {
    return env;
  }

  /** The addresses the server reported, in order ({@code unix:/…}, {@code 127.0.0.1:34567}). */
  public List<String> listening() {
    List<String> out = new ArrayList<>();
    Matcher m = LISTENING.matcher(output);
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }

  /** The first Unix socket the server listens on. */
  public Path socket() {
    return listening().stream().filter(a -> a.startsWith("unix:")).map(a -> Path.of(a.substring(5))).findFirst()
        .orElseThrow(() -> new AssertionError("no unix socket in: " + output));
  }

  /** nbd+unix:///EXPORT?socket=…, for qemu-img, nbdinfo, nbdcopy. */
  public String uri(String export) {
    return "nbd+unix:///" + export + "?socket=" + socket();
  }

  /** The TCP port of the first TCP address. */
  public int port() {
    String a = listening().stream().filter(x -> !x.startsWith("unix:")).findFirst()
        .orElseThrow(() -> new AssertionError("no TCP address in: " + output));
    return Integer.parseInt(a.substring(a.lastIndexOf(':') + 1));
  }

  /** What the background server logged so far (warnings and errors; more with -v). */
  public String log() throws IOException {
    Path logs = Path.of(env.get("XDG_CACHE_HOME"), "vmafs", "log");
    StringBuilder sb = new StringBuilder();
    try (var files = Files.list(logs)) {
      for (Path f : files.filter(p -> p.getFileName().toString().startsWith("nbd")).toList()) {
        sb.append(Files.readString(f));
      }
    }
    return sb.toString();
  }

  public boolean alive() {
    return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
  }

  /** SIGTERM, as {@code kill PID} sends; waits until the server is gone. */
  @Override
  public void close() {
    Optional<ProcessHandle> h = ProcessHandle.of(pid);
    if (h.isEmpty()) {
      return;
    }
    List<Path> sockets = listening().stream().filter(a -> a.startsWith("unix:")).map(a -> Path.of(a.substring(5))).toList();
    h.get().destroy();
    for (int i = 0; i < 150 && h.get().isAlive(); i++) {
      Mounted.sleep(100);
    }
    boolean stopped = !h.get().isAlive();
    if (!stopped) {
      h.get().destroyForcibly();
    }
    assertFalse(!stopped, "vmafs nbd (pid " + pid + ") did not stop on SIGTERM");
    for (Path s : sockets) {
      assertFalse(Files.exists(s), "the server left its socket behind: " + s);
    }
  }
}
