package vmafs.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

/**
 * Filesystems with known files, written into a partition of a disk image by the real mkfs tools
 * (no loop device, no mount, except ntfs-3g to fill an NTFS), and the {@code sha256sum} manifest
 * that recovered files are checked against.
 */
final class FsImages {
  private FsImages() {}

  /** A few files of known content under {@code root}: text, a multi-cluster file, an empty file, nesting. */
  static Path files(Path root, long seed) throws IOException {
    Random r = new Random(seed);
    Files.createDirectories(root.resolve("etc"));
    Files.createDirectories(root.resolve("home/admin/projects"));
    Files.writeString(root.resolve("etc/hostname"), "vm-" + seed + "\n");
    Files.writeString(root.resolve("home/admin/notes.txt"), "notes of disk " + seed + "\n".repeat(3));
    byte[] big = new byte[3_000_000 + r.nextInt(1_000_000)];
    r.nextBytes(big);
    Files.write(root.resolve("home/admin/projects/data.bin"), big);
    byte[] small = new byte[70_000];
    r.nextBytes(small);
    Files.write(root.resolve("home/admin/projects/small.bin"), small);
    Files.write(root.resolve("empty"), new byte[0]);
    return root;
  }

  /**
   * {@code sha256sum} of every file under {@code root}, by relative path, without what the
   * filesystem or the extracting tool adds ({@code lost+found}; 7-Zip's {@code [SYS]} and
   * {@code [SYSTEM]} folders of metadata files).
   */
  static String manifest(Path root) {
    return Run.sh("cd '" + root + "' && find . \\( -path ./lost+found -o -path './\\[SYS\\]' -o -path './\\[SYSTEM\\]' \\)"
        + " -prune -o -type f -print0 | sort -z | xargs -0 sha256sum").ok().out();
  }

  /** mkfs.ext4 -d into the partition at {@code start} (sectors) of {@code disk}, no root needed. */
  static void ext4(Path disk, long start, long sectors, String label, Path root) {
    Run.cmd("mkfs.ext4", "-q", "-F", "-L", label, "-E", "offset=" + start * 512, "-d", root.toString(),
        disk.toString(), (sectors / 2) + "k").ok();
  }

  /** mkfs.xfs -p (a protofile listing {@code root}) into a file in {@code work}, copied sparse into the partition. */
  static void xfs(Path work, Path disk, long start, long sectors, Path root) throws IOException {
    Path img = work.resolve(root.getFileName() + ".xfs");
    Path proto = work.resolve(root.getFileName() + ".proto");
    StringBuilder sb = new StringBuilder("/dev/null\n0 0\nd--755 0 0\n");
    protofile(root, sb, 1);
    Files.writeString(proto, sb.append("$\n").toString());
    Run.cmd("truncate", "-s", Long.toString(sectors * 512), img.toString()).ok();
    Run.cmd("mkfs.xfs", "-q", "-f", "-L", "data", "-p", proto.toString(), img.toString()).ok();
    copyInto(img, disk, start);
  }

  /** mkfs.vfat into a file, filled with mcopy (mtools, no mount), copied into the partition. */
  static void fat(Path work, Path disk, long start, long sectors, Path root) throws IOException {
    Path img = work.resolve(root.getFileName() + ".fat");
    Run.cmd("mkfs.vfat", "-n", "DATA", "-h", Long.toString(start), "-C", img.toString(), Long.toString(sectors / 2)).ok();
    try (Stream<Path> s = Files.list(root)) {
      for (Path p : s.sorted().toList()) {
        Run.cmd("mcopy", "-s", "-i", img.toString(), p.toString(), "::/").ok();
      }
    }
    copyInto(img, disk, start);
  }

  /**
   * mkntfs into a file (its boot sector told where the partition starts), filled through an
   * ntfs-3g mount of that file (unmounted in all cases), copied into the partition. Needs root.
   */
  static void ntfs(Path work, Path disk, long start, long sectors, Path root) throws IOException {
    Path img = work.resolve(root.getFileName() + ".ntfs");
    Path mnt = work.resolve(root.getFileName() + ".ntfs-mnt");
    Files.createDirectories(mnt);
    Run.cmd("truncate", "-s", Long.toString(sectors * 512), img.toString()).ok();
    Run.cmd("mkntfs", "-q", "-F", "-L", "win", "-s", "512", "-p", Long.toString(start), "-H", "16", "-S", "63",
        img.toString()).ok();
    Run.cmd("ntfs-3g", img.toString(), mnt.toString()).ok();
    try {
      Run.sh("cp -r '" + root + "'/. '" + mnt + "'/").ok();
    } finally {
      Run.cmd("umount", mnt.toString());
      if (Mounted.isMounted(mnt)) {
        Run.cmd("umount", "-l", mnt.toString());
      }
    }
    copyInto(img, disk, start);
  }

  private static void copyInto(Path img, Path disk, long start) throws IOException {
    Run.cmd("dd", "if=" + img, "of=" + disk, "bs=1M", "oflag=seek_bytes", "seek=" + start * 512,
        "conv=sparse,notrunc", "status=none").ok();
    Files.delete(img);
  }

  private static void protofile(Path d, StringBuilder sb, int depth) throws IOException {
    List<Path> entries;
    try (Stream<Path> s = Files.list(d)) {
      entries = s.sorted().toList();
    }
    String indent = " ".repeat(depth);
    for (Path p : entries) {
      if (Files.isDirectory(p)) {
        sb.append(indent).append(p.getFileName()).append(" d--755 0 0\n");
        protofile(p, sb, depth + 1);
        sb.append(indent).append("$\n");
      } else {
        sb.append(indent).append(p.getFileName()).append(" ---644 0 0 ").append(p.toAbsolutePath()).append('\n');
      }
    }
  }
}
