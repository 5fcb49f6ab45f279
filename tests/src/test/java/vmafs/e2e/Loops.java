package vmafs.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Loop devices and the filesystems mounted from them, seen from the kernel ({@code /sys/block},
 * {@code /proc/self/mountinfo}), and the safety net that removes whatever a test left behind.
 */
final class Loops {
  private Loops() {}

  /** A loop device ({@code loop3}) and its partitions ({@code loop3p1}, …). */
  record Loop(String name, Path backingFile, List<String> partitions) {
    String device() {
      return "/dev/" + name;
    }
  }

  /** The loop devices whose backing file lies under {@code dir}. */
  static List<Loop> under(Path dir) {
    Path real = real(dir);
    List<Loop> out = new ArrayList<>();
    try (Stream<Path> s = Files.list(Path.of("/sys/block"))) {
      for (Path p : s.filter(p -> p.getFileName().toString().startsWith("loop")).sorted().toList()) {
        String name = p.getFileName().toString();
        String f;
        try {
          f = Files.readString(p.resolve("loop/backing_file")).strip().replace(" (deleted)", "");
        } catch (IOException e) {
          continue; // not attached
        }
        if (Path.of(f).startsWith(real) || Path.of(f).startsWith(dir)) {
          out.add(new Loop(name, Path.of(f), partitions(name)));
        }
      }
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    return out;
  }

  static List<String> partitions(String name) {
    try (Stream<Path> s = Files.list(Path.of("/sys/block", name))) {
      return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(name + "p")).sorted().toList();
    } catch (IOException e) {
      return List.of();
    }
  }

  /** Mount points of the filesystems mounted from {@code /dev/<dev>} (a loop device or partition). */
  static List<Path> mountsOf(String dev) {
    Path sys = dev.matches("loop\\d+p\\d+")
        ? Path.of("/sys/block", dev.substring(0, dev.lastIndexOf('p')), dev) : Path.of("/sys/block", dev);
    String number;
    try {
      number = Files.readString(sys.resolve("dev")).strip();
    } catch (IOException e) {
      return List.of();
    }
    List<Path> out = new ArrayList<>();
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"), StandardCharsets.ISO_8859_1)) {
        String[] f = line.split(" ");
        if (f[2].equals(number)) {
          out.add(Path.of(f[4]));
        }
      }
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    return out;
  }

  /**
   * Unmounts every filesystem mounted from a loop device backed by a file under {@code dir}, removes
   * the partitions and detaches the devices. For finally blocks: never throws.
   */
  static void cleanUnder(Path dir) {
    for (Loop l : under(dir)) {
      for (String dev : concat(l.partitions(), l.name())) {
        for (Path m : mountsOf(dev)) {
          Run.cmd("umount", m.toString());
          if (Run.cmd("mountpoint", "-q", m.toString()).code() == 0) {
            Run.cmd("umount", "-l", m.toString());
          }
        }
      }
      Run.cmd("partx", "-d", l.device());
      Run.cmd("losetup", "-d", l.device());
    }
  }

  private static List<String> concat(List<String> parts, String disk) {
    List<String> out = new ArrayList<>(parts);
    out.add(disk);
    return out;
  }

  private static Path real(Path dir) {
    try {
      return dir.toRealPath();
    } catch (IOException e) {
      return dir.toAbsolutePath().normalize();
    }
  }
}
