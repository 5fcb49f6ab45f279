package vmafs.nbd;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Real tools (nbdinfo, nbdcopy, qemu-img, certtool, openssl) run as processes, with a timeout. */
final class Tools {
  /** The repository's root (samples/ lives there). */
  static final Path ROOT = Path.of(System.getProperty("user.dir")).getParent();

  private Tools() {}

  record Result(int code, String out, String err) {
    Result ok() {
      if (code != 0) {
        throw new AssertionError("exit " + code + "\nstdout: " + out + "\nstderr: " + err);
      }
      return this;
    }
  }

  static Result run(String... cmd) {
    return run(List.of(cmd));
  }

  static Result run(List<String> cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      Thread a = pump(p.getInputStream(), out);
      Thread b = pump(p.getErrorStream(), err);
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError("timed out: " + cmd);
      }
      a.join();
      b.join();
      return new Result(p.exitValue(), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
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

  /** Fails clearly where a tool is missing (./bootstrap deps installs them all). */
  static void need(String... tools) {
    for (String t : tools) {
      if (Arrays.stream(System.getenv("PATH").split(":")).noneMatch(d -> Files.isExecutable(Path.of(d, t)))) {
        throw new AssertionError(t + " is not installed: run ./bootstrap deps");
      }
    }
  }

  /** CA, server and client certificates from samples/tls-certs.sh, as users make them. */
  static Path certificates(Path dir) {
    need("certtool");
    run(ROOT.resolve("samples/tls-certs.sh").toString(), dir.toString()).ok();
    return dir;
  }
}
