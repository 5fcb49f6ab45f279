package vmafs.fs;

import java.nio.file.Path;
import java.util.List;

/**
 * How to mount a {@link ReadOnlyFs}.
 *
 * @param mountpoint an existing directory
 * @param fsName what {@code mount} shows as the source (the archive path)
 * @param threads FUSE request threads owned by Java (1–64)
 * @param allowOther pass {@code -o allow_other} (needs {@code user_allow_other} in /etc/fuse.conf
 *     for non-root users)
 * @param extraOptions further {@code -o} options, passed through to libfuse
 * @param backend which FUSE library to use
 */
public record MountOptions(
    Path mountpoint, String fsName, int threads, boolean allowOther, List<String> extraOptions,
    Backend backend) {

  /**
   * The extra option that makes reads bypass the page cache and reach the filesystem at the
   * reader's request size (up to 1 MiB): the fastest cold sequential reads through FUSE
   * (docs/fuse.md §1), but no caching of re-reads and no shared mmap of the files. Both backends
   * take it, though libfuse3 needs it in {@code cfg->direct_io} rather than as a mount option.
   */
  public static final String DIRECT_IO = "direct_io";

  /** Which libfuse to bind. */
  public enum Backend {
    /** libfuse3 when present (holes via lseek), else libfuse2. */
    AUTO,
    /** libfuse3 through a jnr-ffi binding; supports SEEK_DATA/SEEK_HOLE. */
    FUSE3,
    /** libfuse2 through jnr-fuse; holes are visible only through st_blocks. */
    FUSE2
  }

  public MountOptions {
    if (threads < 1 || threads > 64) {
      throw new IllegalArgumentException("threads must be between 1 and 64, got " + threads);
    }
    extraOptions = List.copyOf(extraOptions);
  }
}
