package vmafs.image.partition;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import vmafs.image.SparseImage;

/** Disk images partitioned by the real tools (sfdisk, sgdisk, fdisk), and the tools' own reading of them. */
final class ToolImages {
  private ToolImages() {}

  /** Runs a command, optionally feeding {@code stdin}; fails the test unless it exits 0. */
  static String run(String stdin, String... cmd) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    Process p = pb.start();
    try {
      if (stdin != null) {
        p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
      }
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        fail("timed out: " + List.of(cmd));
      }
      if (p.exitValue() != 0) {
        fail(List.of(cmd) + " exited " + p.exitValue() + ":\n" + out);
      }
      return out;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }

  static Path sparseFile(Path file, String size) throws IOException {
    run(null, "truncate", "-s", size, file.toString());
    return file;
  }

  /** 64 MiB, MBR: a bootable primary, an extended partition with three logical ones, another primary. */
  static Path mbrWithLogicals(Path file) throws IOException {
    sparseFile(file, "64M");
    run("label: dos\n"
        + "start=2048, size=16384, type=83, bootable\n"
        + "start=18432, size=90112, type=5\n"
        + "start=110592, size=8192, type=8e\n"
        + "start=20480, size=16384, type=83\n"
        + "start=38912, size=8192, type=c\n"
        + "start=49152, size=32768, type=7\n", "sfdisk", "-q", file.toString());
    return file;
  }

  /** 64 MiB, GPT with names, a gap in the entry numbers and the legacy-bootable attribute. */
  static Path gpt(Path file) throws IOException {
    sparseFile(file, "64M");
    run(null, "sgdisk", "-o", "-n", "1:2048:+8M", "-t", "1:ef00", "-c", "1:EFI system",
        "-n", "2:0:+16M", "-t", "2:8300", "-c", "2:root", "-A", "2:set:2",
        "-n", "5:0:+8M", "-t", "5:0700", "-c", "5:data ü", "-n", "6:0:+4M", "-t", "6:8e00", file.toString());
    return file;
  }

  /** 64 MiB, GPT counted in 4096-byte sectors (a 4Kn disk), made by fdisk -b 4096. */
  static Path gpt4k(Path file) throws IOException {
    sparseFile(file, "64M");
    run("g\nn\n1\n256\n+8M\nn\n2\n\n+16M\nw\n", "fdisk", "-b", "4096", file.toString());
    return file;
  }

  /** The non-zero 512-byte sectors of a file, as a test image of the same size. */
  static SparseImage load(Path file) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
      SparseImage img = new SparseImage(f.length());
      byte[] chunk = new byte[1 << 20];
      byte[] zero = new byte[512];
      for (long pos = 0; pos < f.length(); pos += chunk.length) {
        int n = (int) Math.min(chunk.length, f.length() - pos);
        f.seek(pos);
        f.readFully(chunk, 0, n);
        for (int s = 0; s < n; s += 512) {
          int len = Math.min(512, n - s);
          if (!Arrays.equals(chunk, s, s + len, zero, 0, len)) {
            img.write(pos + s, Arrays.copyOfRange(chunk, s, s + len));
          }
        }
      }
      return img;
    }
  }
}
