package vmafs.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs the built {@code vmafs} and other real tools as separate processes, as a user would. */
public final class Run {
  /** The runnable jar the build made ({@code cli/target/vmafs.jar}). */
  public static final Path JAR = Path.of(System.getProperty("vmafs.jar", "../cli/target/vmafs.jar")).toAbsolutePath();
  public static final Path ROOT = Path.of(System.getProperty("vmafs.root", "..")).toAbsolutePath().normalize();
  private static final long TIMEOUT_SECONDS = 300;

  private Run() {}

  /** What a finished process printed and returned. */
  public record Result(int code, String out, String err, byte[] outBytes) {
    public Result ok() {
      if (code != 0) {
        fail("exit code " + code + "\nstdout: " + out + "\nstderr: " + err);
      }
      return this;
    }

    public Result exit(int expected) {
      assertEquals(expected, code, () -> "stdout: " + out + "\nstderr: " + err);
      return this;
    }
  }

  /** The java command that runs vmafs, for ProcessBuilder. */
  public static List<String> vmafsCommand(String... args) {
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-XX:+UseSerialGC",
        "-jar", JAR.toString()));
    cmd.addAll(Arrays.asList(args));
    return cmd;
  }

  public static Result vmafs(String... args) {
    return exec(vmafsCommand(args), null, Map.of());
  }

  public static Result vmafsWithInput(Path stdin, String... args) {
    return exec(vmafsCommand(args), stdin, Map.of());
  }

  public static Result sh(String script) {
    return exec(List.of("bash", "-c", script), null, Map.of());
  }

  public static Result cmd(String... args) {
    return exec(Arrays.asList(args), null, Map.of());
  }

  public static Result exec(List<String> cmd, Path stdin, Map<String, String> env) {
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().putAll(env);
    pb.redirectInput(stdin != null ? ProcessBuilder.Redirect.from(stdin.toFile())
        : ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    try {
      Process p = pb.start();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      Thread to = pump(p.getInputStream(), out);
      Thread te = pump(p.getErrorStream(), err);
      if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        fail("timed out after " + TIMEOUT_SECONDS + " s: " + cmd);
      }
      to.join();
      te.join();
      return new Result(p.exitValue(), out.toString(StandardCharsets.UTF_8),
          err.toString(StandardCharsets.UTF_8), out.toByteArray());
    } catch (IOException e) {
      throw new AssertionError("cannot run " + cmd, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private static Thread pump(InputStream in, ByteArrayOutputStream to) {
    Thread t = new Thread(() -> {
      try {
        in.transferTo(to);
      } catch (IOException e) {
        // process ended
      }
    });
    t.start();
    return t;
  }
}
