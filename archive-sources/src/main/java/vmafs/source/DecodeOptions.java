package vmafs.source;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Knobs of a decode pass. Immutable; start from {@link #defaults()} and use the {@code with…}
 * methods.
 *
 * @param spillFile the spill file to write when the archive cannot be read at random (a zstd
 *     frame without restart points, gzip without restart points); {@code null} makes a needed
 *     spill an error. Its directory must be one nobody else can write to (the saved index's); a
 *     zstd pass also keeps its restart prefixes there, in an unlinked scratch file, until the
 *     index is saved (without a spill file, in memory)
 * @param spillMax the most bytes a spill file may hold before the pass fails
 * @param gzipCheckpointSpacing uncompressed bytes between gzip checkpoints (each costs a 32 KiB
 *     window in the map, and a random read inflates up to this much)
 * @param gzipMaxGap a stretch longer than this without a usable gzip restart point makes the
 *     rest of the archive spill
 * @param zstdMaxFrameSize the largest zstd frame (uncompressed, upper bound) decoded whole on a
 *     random read; archives with larger frames get restart points inside their frames. Every
 *     cache miss decodes a whole frame (~600 MiB/s), so the default keeps a miss under ~30 ms.
 * @param progress told how far the pass has read the archive
 * @param streamOnly the caller only reads the stream once (list, verify, extract): nothing is
 *     spilled and no map is built, whatever the format
 * @param forceSpill decode the whole stream into a spill file even where random access into the
 *     archive would work ({@code --spill}: the fastest random reads, for disk the size of the data)
 * @param zstdRestartBudget the most bytes zstd restart points (their prefixes, records and chunk
 *     checksums) may take, as a fraction of the compressed archive
 * @param zstdMaxSpan the longest stretch of uncompressed stream one zstd restart point may serve;
 *     where no further point verifies within it, the rest of the stream is spilled
 */
public record DecodeOptions(Path spillFile, long spillMax, int gzipCheckpointSpacing,
    int gzipMaxGap, int zstdMaxFrameSize, ProgressListener progress, boolean streamOnly,
    boolean forceSpill, double zstdRestartBudget, int zstdMaxSpan) {

  public static final int DEFAULT_GZIP_SPACING = 1 << 20;
  public static final int DEFAULT_GZIP_MAX_GAP = 32 << 20;
  public static final int DEFAULT_ZSTD_MAX_FRAME = 16 << 20;
  /** The size bound of issue #11: restart data within 3 % of the archive. */
  public static final double DEFAULT_ZSTD_RESTART_BUDGET = 0.03;
  /** Random reads allocate a whole block; this is the most we ever allow. */
  public static final int MAX_BLOCK_ALLOCATION = 256 << 20;
  /**
   * A cold read decodes half a span on average, ~0.2 s at this length on the reference machine;
   * longer spans would make random access a name only (docs/design.md).
   */
  public static final int DEFAULT_ZSTD_MAX_SPAN = 256 << 20;

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
    if (!(zstdRestartBudget >= 0 && zstdRestartBudget <= 1)) {
      throw new IllegalArgumentException("zstd restart budget must be a fraction: " + zstdRestartBudget);
    }
    if (zstdMaxSpan < (1 << 20)) {
      throw new IllegalArgumentException("zstd max span must be at least 1 MiB: " + zstdMaxSpan);
    }
  }

  public static DecodeOptions defaults() {
    return new DecodeOptions(null, Long.MAX_VALUE, DEFAULT_GZIP_SPACING, DEFAULT_GZIP_MAX_GAP,
        DEFAULT_ZSTD_MAX_FRAME, ProgressListener.NONE, false, false, DEFAULT_ZSTD_RESTART_BUDGET,
        DEFAULT_ZSTD_MAX_SPAN);
  }

  public DecodeOptions withSpillFile(Path file) {
    return new DecodeOptions(file, spillMax, gzipCheckpointSpacing, gzipMaxGap, zstdMaxFrameSize,
        progress, streamOnly, forceSpill, zstdRestartBudget, zstdMaxSpan);
  }

  public DecodeOptions withSpillMax(long max) {
    return new DecodeOptions(spillFile, max, gzipCheckpointSpacing, gzipMaxGap, zstdMaxFrameSize,
        progress, streamOnly, forceSpill, zstdRestartBudget, zstdMaxSpan);
  }

  public DecodeOptions withGzip(int spacing, int maxGap) {
    return new DecodeOptions(spillFile, spillMax, spacing, maxGap, zstdMaxFrameSize, progress,
        streamOnly, forceSpill, zstdRestartBudget, zstdMaxSpan);
  }

  public DecodeOptions withZstdMaxFrameSize(int max) {
    return new DecodeOptions(spillFile, spillMax, gzipCheckpointSpacing, gzipMaxGap, max, progress,
        streamOnly, forceSpill, zstdRestartBudget, zstdMaxSpan);
  }

  /** For one sequential read of the stream: no spill file, no map. */
  public DecodeOptions withStreamOnly() {
    return new DecodeOptions(spillFile, spillMax, gzipCheckpointSpacing, gzipMaxGap, zstdMaxFrameSize,
        progress, true, forceSpill, zstdRestartBudget, zstdMaxSpan);
  }

  public DecodeOptions withProgress(ProgressListener listener) {
    return new DecodeOptions(spillFile, spillMax, gzipCheckpointSpacing, gzipMaxGap,
        zstdMaxFrameSize, listener, streamOnly, forceSpill, zstdRestartBudget, zstdMaxSpan);
  }

  /** Spill the whole stream although the archive could be read at random ({@code --spill}). */
  public DecodeOptions withForceSpill(boolean force) {
    return new DecodeOptions(spillFile, spillMax, gzipCheckpointSpacing, gzipMaxGap,
        zstdMaxFrameSize, progress, streamOnly, force, zstdRestartBudget, zstdMaxSpan);
  }

  public DecodeOptions withZstdRestart(double budget, int maxSpan) {
    return new DecodeOptions(spillFile, spillMax, gzipCheckpointSpacing, gzipMaxGap,
        zstdMaxFrameSize, progress, streamOnly, forceSpill, budget, maxSpan);
  }
}
