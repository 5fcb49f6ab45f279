package vmafs.e2e;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

/** Test disk images with known data and holes, and what to expect of them. */
public final class Images {
  private Images() {}

  /**
   * A sparse image of {@code size} bytes with {@code regions} random data regions (some 4 KiB
   * blocks inside them zero, some regions unaligned), deterministic from {@code seed}.
   */
  public static Path sparse(Path file, long size, int regions, long seed) throws IOException {
    Random r = new Random(seed);
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.setLength(size);
      for (int i = 0; i < regions; i++) {
        int len = 1 + r.nextInt(300_000);
        long at = (long) (r.nextDouble() * Math.max(1, size - len));
        byte[] b = new byte[(int) Math.min(len, size - at)];
        r.nextBytes(b);
        for (int z = 4096; z + 4096 <= b.length; z += 4096 * (2 + r.nextInt(6))) {
          java.util.Arrays.fill(b, z, z + 4096, (byte) 0); // zero blocks inside data
        }
        f.seek(at);
        f.write(b);
      }
      // Data in the very last bytes: the partial last block and cluster.
      byte[] tail = new byte[(int) Math.min(size, 777)];
      r.nextBytes(tail);
      f.seek(size - tail.length);
      f.write(tail);
    }
    return file;
  }

  public static String sha256(Path file) throws IOException {
    try (var in = Files.newInputStream(file)) {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[1 << 20];
      int n;
      while ((n = in.read(buf)) > 0) {
        md.update(buf, 0, n);
      }
      return HexFormat.of().formatHex(md.digest());
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  /** The [start, end) ranges of non-zero 4 KiB blocks of a file, clipped to its size. */
  public static List<long[]> dataRanges(Path file) throws IOException {
    List<long[]> out = new ArrayList<>();
    byte[] block = new byte[4096];
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
      long size = f.length();
      long start = -1;
      for (long pos = 0; pos < size; pos += 4096) {
        int n = (int) Math.min(4096, size - pos);
        f.seek(pos);
        f.readFully(block, 0, n);
        boolean data = false;
        for (int i = 0; i < n && !data; i++) {
          data = block[i] != 0;
        }
        if (data && start < 0) {
          start = pos;
        } else if (!data && start >= 0) {
          out.add(new long[] {start, pos});
          start = -1;
        }
      }
      if (start >= 0) {
        out.add(new long[] {start, size});
      }
    }
    return out;
  }
}
