package vmafs.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TimeZone;
import java.util.concurrent.TimeUnit;

/** Runs vmafs in-process ({@link Main#run}) or as a child JVM, capturing stdout, stderr, exit code. */
final class Cli {
  private Cli() {}

  record Result(int code, byte[] out, String err) {
    String stdout() {
      return new String(out, StandardCharsets.UTF_8);
    }

    /** A failed command prints one "vmafs: error: …" line and no Java internals. */
    void assertCleanError(int expectedCode) {
      assertEquals(expectedCode, code, "exit code; stderr: " + err);
      List<String> lines = err.lines().toList();
      assertEquals(1, lines.size(), "one line on stderr: " + err);
      assertTrue(lines.get(0).startsWith("vmafs: error: "), err);
      assertFalse(err.contains("Exception"), "no exception names: " + err);
      assertFalse(err.contains("at vmafs."), "no stack trace: " + err);
    }
  }

  static Result run(String... args) {
    return runWithStdin(null, args);
  }

  /** In-process, with System.in reading {@code stdin} (a file, as a shell redirect gives). */
  static synchronized Result runWithStdin(Path stdin, String... args) {
    PrintStream out = System.out;
    PrintStream err = System.err;
    InputStream in = System.in;
    TimeZone zone = TimeZone.getDefault();
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
      if (stdin != null) {
        // What a shell redirect gives the JVM: a FileInputStream on a regular file (whose skip can
        // seek past the end, unlike Files.newInputStream's).
        System.setIn(new FileInputStream(stdin.toFile()));
      }
      // list prints local time; tests compare against UTC.
      TimeZone.setDefault(TimeZone.getTimeZone("UTC"));
      int code = Main.run(args);
      System.out.flush();
      System.err.flush();
      return new Result(code, o.toByteArray(), e.toString(StandardCharsets.UTF_8));
    } catch (IOException ex) {
      throw new AssertionError(ex);
    } finally {
      if (System.in != in) {
        try {
          System.in.close();
        } catch (IOException ignored) {
          // best effort
        }
      }
      System.setOut(out);
      System.setErr(err);
      System.setIn(in);
      TimeZone.setDefault(zone);
    }
  }

  /** A separate JVM on the test class path, with its stdin from {@code stdin} (or empty). */
  static Result subprocess(Map<String, String> env, Path stdin, String... args) throws IOException, InterruptedException {
    return subprocess(List.of(), env, stdin, args);
  }

  static Result subprocess(List<String> jvmOptions, Map<String, String> env, Path stdin, String... args)
      throws IOException, InterruptedException {
    return subprocessIn(null, jvmOptions, env, stdin, args);
  }

  /** As {@link #subprocess(List, Map, Path, String...)}, started in {@code cwd} (null: ours). */
  static Result subprocessIn(Path cwd, List<String> jvmOptions, Map<String, String> env, Path stdin,
      String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmOptions);
    cmd.add("-XX:TieredStopAtLevel=1");
    cmd.add("-XX:+UseSerialGC");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(Main.class.getName());
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    if (cwd != null) {
      pb.directory(cwd.toFile());
    }
    pb.environment().putAll(env);
    pb.redirectInput(stdin != null ? ProcessBuilder.Redirect.from(stdin.toFile()) : ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    Path errFile = Files.createTempFile("vmafs-err", ".txt");
    try {
      pb.redirectError(errFile.toFile());
      Process p = pb.start();
      byte[] out = p.getInputStream().readAllBytes();
      assertTrue(p.waitFor(60, TimeUnit.SECONDS), "vmafs did not finish");
      return new Result(p.exitValue(), out, Files.readString(errFile));
    } finally {
      Files.deleteIfExists(errFile);
    }
  }
}
