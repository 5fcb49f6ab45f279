package vmafs.source;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.SplittableRandom;

/**
 * Deterministic, semi-compressible test data and real compressed copies of it, made by the Debian
 * CLIs exactly as vzdump runs them (fed through a pipe). Built once per test JVM under
 * {@code target/test-archives}.
 */
public final class TestArchives {
  static final int DATA_SIZE = 24 << 20;
  private static final int BLOCK = 4096;
  private static Path dir;
  private static byte[] data;

  private TestArchives() {}

  public static synchronized Path dir() throws IOException {
    if (dir == null) {
      dir = Path.of("target", "test-archives").toAbsolutePath();
      Files.createDirectories(dir);
      Path raw = dir.resolve("data.bin");
      byte[] d = data();
      if (!Files.exists(raw) || Files.size(raw) != d.length || !sha256(Files.readAllBytes(raw)).equals(sha256(d))) {
        Files.write(raw, d);
      }
    }
    return dir;
  }

  /**
   * Runs of 1–64 blocks of 4 KiB: 30 % random, 40 % text from a small vocabulary, 20 % structured
   * records, 10 % zeros; the size is deliberately not a multiple of 4 KiB.
   */
  public static synchronized byte[] data() {
    if (data == null) {
      SplittableRandom r = new SplittableRandom(0x5eed_f00dL);
      byte[] d = new byte[DATA_SIZE - 1234];
      String[] words = new String[512];
      for (int i = 0; i < words.length; i++) {
        StringBuilder w = new StringBuilder();
        for (int k = 1 + r.nextInt(9); k > 0; k--) {
          w.append((char) ('a' + r.nextInt(26)));
        }
        words[i] = w.toString();
      }
      int pos = 0;
      while (pos < d.length) {
        int run = Math.min(d.length - pos, (1 + r.nextInt(64)) * BLOCK);
        int kind = r.nextInt(10);
        if (kind < 3) {
          for (int i = pos; i < pos + run; i++) {
            d[i] = (byte) r.nextInt();
          }
        } else if (kind < 7) {
          int i = pos;
          while (i < pos + run) {
            byte[] w = (words[r.nextInt(words.length)] + (r.nextInt(12) == 0 ? ".\n" : " "))
                .getBytes(StandardCharsets.US_ASCII);
            for (int k = 0; k < w.length && i < pos + run; k++) {
              d[i++] = w[k];
            }
          }
        } else if (kind < 9) {
          for (int i = pos; i + 16 <= pos + run; i += 16) {
            long id = i / 16;
            for (int k = 0; k < 8; k++) {
              d[i + k] = (byte) (id >>> (8 * k));
            }
            d[i + 8] = (byte) r.nextInt(4);
          }
        } // else: zeros
        pos += run;
      }
      data = d;
    }
    return data;
  }

  /** The data compressed by {@code shellPipeline}, which reads stdin and writes stdout. */
  public static synchronized Path compressed(String fileName, String shellPipeline) throws IOException {
    Path out = dir().resolve(fileName);
    if (!Files.exists(out)) {
      Path tmp = dir().resolve(fileName + ".tmp");
      run("cat " + dir().resolve("data.bin") + " | " + shellPipeline + " > " + tmp);
      Files.move(tmp, out);
    }
    return out;
  }

  public static Path zstd() throws IOException {
    return compressed("data.vma.zst", "zstd -q --threads=2");
  }

  public static Path lzop() throws IOException {
    return compressed("data.vma.lzo", "lzop");
  }

  public static Path gzip() throws IOException {
    return compressed("data.vma.gz", "gzip --rsyncable");
  }

  public static Path pigz() throws IOException {
    return compressed("data.pigz.vma.gz", "pigz -p 2 --rsyncable");
  }

  static Path plainGzip() throws IOException {
    return compressed("data.plain.vma.gz", "gzip");
  }

  public static void run(String shell) throws IOException {
    Process p = new ProcessBuilder("bash", "-o", "pipefail", "-c", shell).redirectErrorStream(true).start();
    try {
      String outText = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      int rc = p.waitFor();
      assertEquals(0, rc, "command failed: " + shell + "\n" + outText);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }

  public static String sha256(byte[] b) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  /** Damages one byte in place: XORs the byte at {@code at} with {@code mask}. */
  public static void flip(Path p, long at, int mask) throws IOException {
    try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(p,
        java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE)) {
      java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1);
      ch.read(b, at);
      b.put(0, (byte) (b.get(0) ^ mask)).rewind();
      ch.write(b, at);
    }
  }

  /** A copy of {@code src} in a fresh file, for tests that damage it. */
  public static Path copy(Path src, Path dir, String name) throws IOException {
    Path p = dir.resolve(name);
    Files.copy(src, p);
    return p;
  }
}
