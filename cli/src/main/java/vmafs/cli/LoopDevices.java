package vmafs.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import vmafs.fuse.MountArgs;
import vmafs.fuse.MountTable;

/**
 * {@code vmafs mount --loop}: attaches every disk image of a mount to a read-only loop device with
 * its partitions, and {@code vmafs umount}: detaches them again before the FUSE unmount.
 *
 * <p>No state is kept: the loop devices of a mount are those whose backing file lies under the
 * mount point ({@code /sys/block/loopN/loop/backing_file}, what {@code losetup -l} shows), so loop
 * devices a user attached by hand are found and detached too. Partitions: {@code losetup -P} asks
 * the kernel to scan the partition table; where that finds nothing (seen on hosts without udev),
 * {@code partx -a} adds them, and {@code partx -d} removes them before {@code losetup -d}.
 */
final class LoopDevices {
  private static final Path SYS_BLOCK = Path.of("/sys/block");
  private static final long TOOL_TIMEOUT_SECONDS = 60;

  /** One attached loop device: the whole disk and its partitions ({@code /dev/loopNpM}). */
  record Loop(String name, Path backingFile, List<String> partitions) {
    String device() {
      return "/dev/" + name;
    }
  }

  private LoopDevices() {}

  /**
   * {@code vmafs mount --loop}, once the mount is ready: attaches its disk images, or, if that
   * fails, unmounts again so that no half-set-up mount is left behind.
   */
  static int attachOrUnmount(Path mountpoint, PrintStream out) {
    try {
      attach(canonical(mountpoint), out);
      return ExitCodes.OK;
    } catch (RuntimeException e) {
      try {
        vmafs.fs.FuseMounts.unmount(mountpoint);
      } catch (RuntimeException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  /**
   * Attaches each {@code disk-*.raw} under {@code mountpoint} read-only with its partitions and
   * prints the devices. On failure, detaches what it attached and throws.
   */
  static List<Loop> attach(Path mountpoint, PrintStream out) {
    List<Path> images = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(mountpoint, "disk-*.raw")) {
      ds.forEach(images::add);
    } catch (IOException e) {
      throw new CliException(ExitCodes.ENVIRONMENT, "cannot list " + mountpoint + ": " + e.getMessage(), e);
    }
    images.sort(null);
    List<Loop> attached = new ArrayList<>();
    try {
      for (Path image : images) {
        attached.add(attachOne(image));
      }
    } catch (RuntimeException e) {
      for (Loop l : attached) {
        detachOne(l);
      }
      throw e;
    }
    print(attached, mountpoint, out);
    return attached;
  }

  private static Loop attachOne(Path image) {
    String dev = run("losetup", "-r", "-P", "-f", "--show", image.toString()).trim();
    if (!dev.startsWith("/dev/loop")) {
      throw new CliException(ExitCodes.ENVIRONMENT, "losetup printed '" + dev + "' for " + image);
    }
    String name = dev.substring("/dev/".length());
    List<String> parts = partitions(name);
    if (parts.isEmpty()) {
      // The kernel's scan found nothing (no udev here, or no partition table): ask partx. A disk
      // without a partition table makes partx fail; that only means there is nothing to add.
      tryRun("partx", "-a", dev);
      parts = partitions(name);
    }
    for (String p : parts) {
      waitFor(Path.of("/dev", p)); // devtmpfs makes the node; give it a moment
    }
    return new Loop(name, image, parts);
  }

  private static void print(List<Loop> loops, Path mountpoint, PrintStream out) {
    if (loops.isEmpty()) {
      out.println("no disk images to attach under " + mountpoint);
      return;
    }
    out.println("loop devices (read-only; 'vmafs umount " + mountpoint + "' detaches them):");
    for (Loop l : loops) {
      out.printf("  %-14s %s%s%n", l.device(), l.backingFile().getFileName(),
          l.partitions().isEmpty() ? describe(l.device()) : "");
      for (String p : l.partitions()) {
        out.printf("  %-14s %s%n", "/dev/" + p, describe("/dev/" + p).trim());
      }
    }
    out.flush();
  }

  /** What blkid finds on a device: type, label and how to mount it read-only, or "". */
  private static String describe(String dev) {
    Map<String, String> tags = new LinkedHashMap<>();
    String probe = tryRun("blkid", "-p", "-o", "export", dev);
    if (probe == null) {
      return "";
    }
    for (String line : probe.split("\n")) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        tags.put(line.substring(0, eq), line.substring(eq + 1));
      }
    }
    String type = tags.get("TYPE");
    if (type == null) {
      return "";
    }
    StringBuilder sb = new StringBuilder("  ").append(type);
    if (tags.containsKey("LABEL")) {
      sb.append("  label=").append(tags.get("LABEL"));
    }
    String options = switch (type) {
      case "ext4", "ext3" -> "ro,noload";
      case "xfs" -> "ro,norecovery";
      case "ext2", "vfat", "ntfs", "ntfs3", "btrfs", "iso9660" -> "ro";
      default -> null;
    };
    if (options != null) {
      sb.append("  (mount -o ").append(options).append(' ').append(dev).append(" DIR)");
    } else if (type.equals("LVM2_member")) {
      sb.append("  (LVM: vgchange -ay; see docs/recipes.md)");
    }
    return sb.toString();
  }

  /**
   * Detaches the loop devices backed by files under the vmafs mount at {@code mountpoint}, after
   * checking that none of them (or their partitions) is mounted or held (LVM, dm); if one is,
   * throws without detaching anything. Does nothing when {@code mountpoint} is not a vmafs mount.
   *
   * @return the devices detached
   */
  static List<Loop> detachUnder(Path mountpoint) {
    Path canonical = canonical(mountpoint);
    boolean vmafs = MountTable.at(canonical).map(m -> m.fsType().equals("fuse." + MountArgs.SUBTYPE))
        .orElse(false);
    if (!vmafs) {
      return List.of(); // the unmount itself reports what is wrong
    }
    List<Loop> loops = under(canonical);
    List<String> busy = new ArrayList<>();
    Map<String, Path> mounts = mountsByDevice();
    for (Loop l : loops) {
      for (String dev : concat(l.name(), l.partitions())) {
        Path where = mounts.get(devNumber(l.name(), dev));
        if (where != null) {
          busy.add("/dev/" + dev + " is mounted on " + where + " (umount " + where + ")");
        }
        for (String holder : holders(l.name(), dev)) {
          busy.add("/dev/" + dev + " is held by " + holder + holderHint(holder));
        }
      }
    }
    if (!busy.isEmpty()) {
      throw new CliException(ExitCodes.ENVIRONMENT, "cannot unmount " + canonical + ": its loop devices are in use: "
          + String.join("; ", busy) + ". Nothing was detached or unmounted.");
    }
    List<String> stuck = new ArrayList<>();
    for (Loop l : loops) {
      if (!detachOne(l)) {
        stuck.add("/dev/" + l.name());
      }
    }
    if (!stuck.isEmpty()) {
      throw new CliException(ExitCodes.ENVIRONMENT, "cannot unmount " + canonical + ": " + String.join(", ", stuck)
          + " still open by another process (they detach by themselves once closed; then run 'vmafs umount "
          + canonical + "' again)");
    }
    return loops;
  }

  /** The loop devices whose backing file lies under {@code dir}. */
  static List<Loop> under(Path dir) {
    List<Loop> out = new ArrayList<>();
    try (Stream<Path> s = Files.list(SYS_BLOCK)) {
      for (Path p : s.filter(p -> p.getFileName().toString().startsWith("loop")).sorted().toList()) {
        Path backing = backingFile(p.getFileName().toString());
        if (backing != null && backing.startsWith(dir) && !backing.equals(dir)) {
          String name = p.getFileName().toString();
          out.add(new Loop(name, backing, partitions(name)));
        }
      }
    } catch (IOException e) {
      throw new CliException(ExitCodes.ENVIRONMENT, "cannot list " + SYS_BLOCK + ": " + e.getMessage(), e);
    }
    return out;
  }

  private static Path backingFile(String name) {
    try {
      String f = Files.readString(SYS_BLOCK.resolve(name).resolve("loop/backing_file")).strip();
      if (f.endsWith(" (deleted)")) {
        f = f.substring(0, f.length() - " (deleted)".length());
      }
      return f.isEmpty() ? null : Path.of(f);
    } catch (IOException e) {
      return null; // not attached
    }
  }

  /** Removes the partitions and detaches; whether the device is free afterwards. */
  private static boolean detachOne(Loop l) {
    if (!partitions(l.name()).isEmpty()) {
      tryRun("partx", "-d", l.device());
    }
    tryRun("losetup", "-d", l.device());
    // losetup -d on a device someone still has open only marks it for autoclear: check it is gone.
    for (int i = 0; i < 40; i++) {
      if (!l.backingFile().equals(backingFile(l.name()))) {
        return true;
      }
      sleep(50);
    }
    return false;
  }

  /** The partitions the kernel knows of ({@code /sys/block/loopN/loopNpM}). */
  private static List<String> partitions(String name) {
    try (Stream<Path> s = Files.list(SYS_BLOCK.resolve(name))) {
      return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(name + "p"))
          .sorted((a, b) -> Integer.compare(partNo(a, name), partNo(b, name))).toList();
    } catch (IOException e) {
      return List.of();
    }
  }

  private static int partNo(String part, String disk) {
    try {
      return Integer.parseInt(part.substring(disk.length() + 1));
    } catch (NumberFormatException e) {
      return Integer.MAX_VALUE;
    }
  }

  private static Path sysDir(String disk, String dev) {
    return dev.equals(disk) ? SYS_BLOCK.resolve(disk) : SYS_BLOCK.resolve(disk).resolve(dev);
  }

  private static String devNumber(String disk, String dev) {
    try {
      return Files.readString(sysDir(disk, dev).resolve("dev")).strip();
    } catch (IOException e) {
      return "";
    }
  }

  private static List<String> holders(String disk, String dev) {
    List<String> out = new ArrayList<>();
    try (Stream<Path> s = Files.list(sysDir(disk, dev).resolve("holders"))) {
      s.forEach(h -> out.add(holderName(h.getFileName().toString())));
    } catch (IOException e) {
      // no holders directory: nothing holds it
    }
    return out;
  }

  private static String holderName(String holder) {
    try {
      String dm = Files.readString(SYS_BLOCK.resolve(holder).resolve("dm/name")).strip();
      return holder + " (" + dm + ")";
    } catch (IOException e) {
      return holder;
    }
  }

  private static String holderHint(String holder) {
    return holder.startsWith("dm-") ? "; deactivate it first (LVM: vgchange -an VG; dmsetup remove NAME)" : "";
  }

  /** {@code major:minor} of each mounted filesystem to its mount point. */
  private static Map<String, Path> mountsByDevice() {
    Map<String, Path> out = new LinkedHashMap<>();
    try {
      for (MountTable.Mount m : MountTable.all()) {
        out.putIfAbsent(m.device(), m.mountpoint());
      }
    } catch (java.io.UncheckedIOException e) {
      throw new CliException(ExitCodes.ENVIRONMENT, "cannot read /proc/self/mountinfo: "
          + e.getCause().getMessage(), e);
    }
    return out;
  }

  /** {@link MountTable#canonical}, or the absolute path where not even its parent resolves. */
  private static Path canonical(Path path) {
    try {
      return MountTable.canonical(path);
    } catch (IOException e) {
      return path.toAbsolutePath().normalize();
    }
  }

  private static List<String> concat(String first, List<String> rest) {
    List<String> out = new ArrayList<>(rest.size() + 1);
    out.add(first);
    out.addAll(rest);
    return out;
  }

  private static void waitFor(Path node) {
    for (int i = 0; i < 40 && !Files.exists(node); i++) {
      sleep(50);
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Runs a tool; its stdout, or a CliException with its stderr. */
  private static String run(String... cmd) {
    String[] r = exec(cmd);
    if (r == null) {
      throw new CliException(ExitCodes.ENVIRONMENT, cmd[0] + " is not installed (util-linux)");
    }
    if (!r[0].equals("0")) {
      throw new CliException(ExitCodes.ENVIRONMENT, String.join(" ", cmd) + " failed: " + r[2].strip());
    }
    return r[1];
  }

  /** Runs a tool; its stdout, or null if it failed or is missing. */
  private static String tryRun(String... cmd) {
    String[] r = exec(cmd);
    return r != null && r[0].equals("0") ? r[1] : null;
  }

  /** {exit code, stdout, stderr}, or null if the tool cannot be started. */
  private static String[] exec(String... cmd) {
    ProcessBuilder pb = new ProcessBuilder(Arrays.asList(cmd))
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    try {
      Process p = pb.start();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      Thread t = new Thread(() -> copy(p.getErrorStream(), err));
      t.start();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(TOOL_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new CliException(ExitCodes.ENVIRONMENT, String.join(" ", cmd) + " did not finish in "
            + TOOL_TIMEOUT_SECONDS + " s");
      }
      t.join();
      return new String[] {Integer.toString(p.exitValue()), new String(out, StandardCharsets.UTF_8),
        err.toString(StandardCharsets.UTF_8)};
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException(ExitCodes.ENVIRONMENT, "interrupted while running " + cmd[0], e);
    }
  }

  private static void copy(InputStream in, ByteArrayOutputStream to) {
    try {
      in.transferTo(to);
    } catch (IOException e) {
      // the tool ended
    }
  }
}
