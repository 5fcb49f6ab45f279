package vmafs.fuse;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** The kernel's mount table as this process sees it ({@code /proc/self/mountinfo}). */
public final class MountTable {
  private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");

  /**
   * One mount.
   *
   * @param device {@code major:minor} of the mounted filesystem; unique among live FUSE mounts
   * @param mountpoint where it is mounted
   * @param fsType {@code fuse}, {@code fuse.vmafs}, {@code ext4}, …
   * @param source what was mounted: a device, or a FUSE filesystem's fsname (vmafs: the archive)
   */
  public record Mount(String device, Path mountpoint, String fsType, String source) {
    public boolean isFuse() {
      return fsType.equals("fuse") || fsType.startsWith("fuse.");
    }
  }

  private MountTable() {}

  /**
   * The mount visible at {@code mountpoint} (absolute, symlinks resolved), if anything is mounted
   * there. Of several mounts stacked on one path the last one listed is on top.
   */
  public static Optional<Mount> at(Path mountpoint) {
    Mount top = null;
    for (Mount m : all()) {
      if (m.mountpoint().equals(mountpoint)) {
        top = m;
      }
    }
    return Optional.ofNullable(top);
  }

  /** Every mount, in the kernel's order. */
  public static List<Mount> all() {
    List<String> lines;
    try {
      // Latin-1 keeps every byte; mount points are decoded from their octal escapes below.
      lines = Files.readAllLines(MOUNTINFO, StandardCharsets.ISO_8859_1);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return lines.stream().map(MountTable::parse).toList();
  }

  /**
   * {@code path} absolute with symlinks resolved, as mountinfo spells mount points. A path that
   * cannot be stat'ed (missing, or a dead FUSE mount: ENOTCONN) is resolved up to its parent.
   *
   * @throws IOException if not even the parent directory can be resolved
   */
  public static Path canonical(Path path) throws IOException {
    Path absolute = path.toAbsolutePath().normalize();
    try {
      return absolute.toRealPath();
    } catch (IOException unreachable) {
      // resolve the parent below
    }
    Path parent = absolute.getParent();
    return parent == null ? absolute : parent.toRealPath().resolve(absolute.getFileName());
  }

  /** Whether the mount {@code device} is still attached at {@code mountpoint}, on top. */
  public static boolean isMounted(Path mountpoint, String device) {
    return at(mountpoint).map(m -> m.device().equals(device)).orElse(false);
  }

  /**
   * Parses {@code id parent major:minor root mountpoint options [optional…] - fstype source
   * superoptions} (proc(5)). The source is escaped like the mount point.
   */
  static Mount parse(String line) {
    String[] f = line.split(" ");
    int separator = List.of(f).indexOf("-");
    if (f.length < 5 || separator < 6 || separator + 2 >= f.length) {
      throw new IllegalStateException("unexpected line in " + MOUNTINFO + ": " + line);
    }
    return new Mount(f[2], Path.of(unescape(f[4])), f[separator + 1], unescape(f[separator + 2]));
  }

  /** The kernel writes space, tab, newline and backslash in paths as {@code \ooo}. */
  static String unescape(String field) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(field.length());
    for (int i = 0; i < field.length(); i++) {
      char c = field.charAt(i);
      if (c == '\\' && i + 3 < field.length() && isOctal(field, i + 1)) {
        bytes.write(Integer.parseInt(field.substring(i + 1, i + 4), 8));
        i += 3;
      } else {
        bytes.write(c);
      }
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }

  private static boolean isOctal(String s, int from) {
    for (int i = from; i < from + 3; i++) {
      if (s.charAt(i) < '0' || s.charAt(i) > '7') {
        return false;
      }
    }
    return true;
  }
}
