package vmafs.fuse;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import vmafs.fs.MountOptions;

/**
 * The {@code -o} options both libfuse versions get. Everything here is a high-level libfuse
 * option that libfuse 2.9 and 3.x spell alike, so the backends share one list instead of each
 * poking its own config struct. ({@code use_ino} is the exception: libfuse3 dropped the option,
 * its backend sets {@code cfg->use_ino} instead.)
 *
 * @param options in the order given to libfuse (later ones win)
 * @param maxRead the {@code max_read=} value among the options, 0 if none; libfuse3 also needs it
 *     in {@code conn->max_read} during init (docs/fuse.md §6)
 * @param directIo {@code direct_io} was asked for. It is not among {@code options}: libfuse 2.9
 *     takes it as a mount option, libfuse3 rejects that spelling and needs {@code cfg->direct_io}
 */
public record MountArgs(List<String> options, int maxRead, boolean directIo) {
  /** The filesystem type becomes {@code fuse.vmafs}, which is how {@code vmafs umount} knows it. */
  public static final String SUBTYPE = "vmafs";


  /**
   * The archive cannot change under a mount, so the kernel may cache names, attributes and pages
   * for as long as it likes. A day is "forever" without relying on how a larger double converts.
   */
  private static final int CACHE_SECONDS = 86_400;

  public MountArgs {
    options = List.copyOf(options);
  }

  public static MountArgs of(MountOptions o) {
    List<String> opts = new ArrayList<>();
    opts.add("fsname=" + escape(o.fsName()));
    opts.add("subtype=" + SUBTYPE);
    opts.add("kernel_cache");
    opts.add("entry_timeout=" + CACHE_SECONDS);
    opts.add("negative_timeout=" + CACHE_SECONDS);
    opts.add("attr_timeout=" + CACHE_SECONDS);
    // Files belong to whoever mounted them, not to root, which ReadOnlyFs cannot know.
    opts.add("uid=" + processId("uid"));
    opts.add("gid=" + processId("gid"));
    if (o.allowOther()) {
      opts.add("allow_other");
    }
    int maxRead = 0;
    boolean directIo = false;
    for (String extra : o.extraOptions()) {
      for (String opt : extra.split(",")) {
        if (opt.startsWith("max_read=")) {
          maxRead = parseMaxRead(opt);
        }
        if (opt.equals(MountOptions.DIRECT_IO)) {
          directIo = true;
        } else if (!opt.isEmpty()) {
          opts.add(opt);
        }
      }
    }
    // Last, so that an "rw" among the extra options cannot undo it.
    opts.add("ro");
    return new MountArgs(opts, maxRead, directIo);
  }

  /** The single {@code -o} argument. */
  public String joined() {
    return String.join(",", options);
  }

  /** What to tell the user when the kernel refused the mount, beyond libfuse's own message. */
  public String refusalHint() {
    return options.contains("allow_other")
        ? "; allow_other needs user_allow_other in /etc/fuse.conf unless run as root" : "";
  }

  /** libfuse's option parser splits at commas unless escaped with a backslash. */
  static String escape(String value) {
    return value.replace("\\", "\\\\").replace(",", "\\,");
  }

  private static int parseMaxRead(String opt) {
    try {
      return Integer.parseUnsignedInt(opt.substring("max_read=".length()));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("bad mount option " + opt + ": expected a byte count", e);
    }
  }

  private static int processId(String attribute) {
    try {
      return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:" + attribute);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
