package vmafs.source;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Knobs of a decode pass. Immutable; start from {@link #defaults()} and use the {@code with…}
 * methods.
 *
 * @param spillFile the spill file to write when the archive cannot be read at random
 *     (single-frame zstd, gzip without restart points); {@code null} makes such archives an error.
 *     Its directory must be one nobody else can write to (the saved index's)
 * @param spillMax the most bytes a spill file may hold before the pass fails
 * @param gzipCheckpointSpacing uncompressed bytes between gzip checkpoints (each costs a 32 KiB
 *     window in the map, and a random read inflates up to this much)
 * @param gzipMaxGap a stretch longer than this without a usable gzip restart point makes the
 *     rest of the archive spill
 * @param zstdMaxFrameSize the largest zstd frame (uncompressed, upper bound) decoded whole on a
 *     random read; archives with larger frames spill. Every cache miss decodes a whole frame
 *     (~600 MiB/s), so the default keeps a miss under ~30 ms.
 * @param streamOnly the caller only reads the stream once (list, verify, extract): nothing is
 *     spilled and no map is built, whatever the format
 */
public record DecodeOptions(Path spillFile, long spillMax, int gzipCheckpointSpacing,
    int gzipMaxGap, int zstdMaxFrameSize, ProgressListener progress, boolean streamOnly) {

  public static final int DEFAULT_GZIP_SPACING = 1 << 20;
  public static final int DEFAULT_GZIP_MAX_GAP = 32 << 20;
  public static final int DEFAULT_ZSTD_MAX_FRAME = 16 << 20;
  /** Random reads allocate a whole block; this is the most we ever allow. */
  public static final int MAX_BLOCK_ALLOCATION = 256 << 20;

  public DecodeOptions {
    Objects.requireNonNull(progress, "progress");
    if (spillMax <= 0) {
      throw new IllegalArgumentException("spillMax must be positive: " + spillMax);
    }
    if (gzipCheckpointSpacing < (64 << 10) || gzipMaxGap < gzipCheckpointSpacing
        || gzipMaxGap > MAX_BLOCK_ALLOCATION) {
      throw new IllegalArgumentException("need 64 KiB <= gzip spacing (" + gzipCheckpointSpacing
          + ") <= max gap (" + gzipMaxGap + ") <= " + MAX_BLOCK_ALLOCATION);
    }
    if (zstdMaxFrameSize <= 0 || zstdMaxFrameSize > MAX_BLOCK_ALLOCATION) {
      throw new IllegalArgumentException("zstd max frame size out of range: " + zstdMaxFrameSize);
    }
  }

  public static DecodeOptions defaults() {
    return new DecodeOptions(null, Long.MAX_VALUE, DEFAULT_GZIP_SPACING, DEFAULT_GZIP_MAX_GAP,
        DEFAULT_ZSTD_MAX_FRAME, ProgressListener.NONE, false);
  }

  public DecodeOptions withSpillFile(Path file) {
    return new DecodeOptions(file, spillMax, gzipCheckpointSpacing, gzipMaxGap, zstdMaxFrameSize,
        progress, streamOnly);
  }

  public DecodeOptions withSpillMax(long max) {
    return new DecodeOptions(spillFile, max, gzipCheckpointSpacing, gzipMaxGap, zstdMaxFrameSize,
        progress, streamOnly);
  }

  public DecodeOptions withGzip(int spacing, int maxGap) {
    return new DecodeOptions(spillFile, spillMax, spacing, maxGap, zstdMaxFrameSize, progress,
        streamOnly);
  }

  public DecodeOptions withZstdMaxFrameSize(int max) {
    return new DecodeOptions(spillFile, spillMax, gzipCheckpointSpacing, gzipMaxGap, max, progress,
        streamOnly);
  }

  /** For one sequential read of the stream: no spill file, no map. */
  public DecodeOptions withStreamOnly() {
    return new DecodeOptions(spillFile, spillMax, gzipCheckpointSpacing, gzipMaxGap, zstdMaxFrameSize,
        progress, true);
  }

  public DecodeOptions withProgress(ProgressListener listener) {
    return new DecodeOptions(spillFile, spillMax, gzipCheckpointSpacing, gzipMaxGap,
        zstdMaxFrameSize, listener, streamOnly);
  }
}
