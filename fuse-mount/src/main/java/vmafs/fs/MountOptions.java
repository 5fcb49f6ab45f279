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
