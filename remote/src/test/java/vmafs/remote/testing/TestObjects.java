package vmafs.remote.testing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import vmafs.vma.testing.Defects;

/**
 * The files the remote tests upload and read back: a real VMA archive, the sample .vma.zst of the
 * repository, and a few MiB of random bytes whose length is no multiple of any piece size.
 */
public final class TestObjects {
  private TestObjects() {}

  /** Writes the objects into {@code dir}; returns object name to file. */
  public static Map<String, Path> write(Path dir) throws IOException {
    Map<String, Path> files = new LinkedHashMap<>();
    files.put("vzdump-qemu-100-test.vma", Defects.goodArchive().writeTo(dir.resolve("vzdump-qemu-100-test.vma")));
    Path sample = sample();
    if (sample != null) {
      files.put("sample.vma.zst", Files.copy(sample, dir.resolve("sample.vma.zst")));
    }
    byte[] random = new byte[(5 << 20) + 12_345];
    new Random(16).nextBytes(random);
    files.put("random.bin", Files.write(dir.resolve("random.bin"), random));
    return files;
  }

  /** The repository's sample archive, or null when the tests run outside the repository. */
  public static Path sample() {
    for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
      Path s = d.resolve("samples/vzdump-qemu-100-2026_11_22-12_00_00.vma.zst");
      if (Files.isRegularFile(s)) {
        return s;
      }
    }
    return null;
  }

  public static String sha256(byte[] data) {
    return HexFormat.of().formatHex(digest().digest(data));
  }

  public static String sha256(Path file) throws IOException {
    return sha256(Files.readAllBytes(file));
  }

  public static String sha256(InputStream in) throws IOException {
    MessageDigest d = digest();
    byte[] buf = new byte[100_000]; // no multiple of a piece, so reads straddle piece boundaries
    int n;
    while ((n = in.read(buf)) >= 0) {
      d.update(buf, 0, n);
    }
    return HexFormat.of().formatHex(d.digest());
  }

  private static MessageDigest digest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
