package vmafs.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The {@code -o} options of {@code vmafs mount} as mount(8) and {@code mount.fuse3} hand them over
 * from an fstab line or {@code mount -t fuse.vmafs -o …}: the generic options meant for mount(8),
 * systemd or the kernel's defaults are accepted and dropped, {@code rw} is refused, the rest goes
 * to libfuse.
 *
 * <p>What reaches vmafs (docs/recipes.md, "fstab"): mount(8) itself removes {@code noauto},
 * {@code user}, {@code _netdev} and {@code defaults}, mount.fuse3 removes {@code nofail} and
 * {@code x-systemd.*}, and mount(8) adds {@code rw} unless {@code ro} is given and {@code dev,suid}
 * unless {@code nodev}/{@code nosuid} are; by hand, any of them may still arrive.
 */
final class FstabOptions {
  /** Options for mount(8), systemd or the kernel that mean nothing for a read-only FUSE mount. */
  private static final Set<String> IGNORED = Set.of(
      "ro", "defaults", "auto", "noauto", "nofail", "user", "nouser", "users", "owner", "group",
      "_netdev", "dev", "suid", "exec", "async", "sync", "dirsync", "atime", "noatime", "relatime",
      "norelatime", "strictatime", "nostrictatime", "diratime", "nodiratime", "lazytime", "nolazytime",
      "loud", "silent");
  /** Prefixes of option families that are for other programs ({@code x-systemd.automount}, …). */
  private static final List<String> IGNORED_PREFIXES = List.of("x-", "comment=");

  private FstabOptions() {}

  /**
   * The options libfuse gets: {@code options} without the ignored ones. {@code nosuid},
   * {@code nodev} and {@code noexec} are kept: libfuse applies them as mount flags.
   *
   * @throws CliException (usage) for {@code rw}
   */
  static List<String> forLibfuse(List<String> options) {
    List<String> out = new ArrayList<>();
    for (String o : options) {
      String opt = o.trim();
      if (opt.equals("rw")) {
        throw new CliException(ExitCodes.USAGE, "vmafs mounts are read-only: '-o rw' is refused (mount(8)"
            + " passes rw unless the options say ro: use -o ro, or 'ro' in the fstab line)");
      }
      if (opt.isEmpty() || IGNORED.contains(opt) || IGNORED_PREFIXES.stream().anyMatch(opt::startsWith)) {
        continue;
      }
      out.add(opt);
    }
    return out;
  }
}
