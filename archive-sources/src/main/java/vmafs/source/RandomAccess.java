package vmafs.source;

/**
 * How reads of an archive's stream are served, for {@code info}/{@code index --json} and logs.
 *
 * @param method one of the constants below
 * @param points independently decodable places (blocks, frames, checkpoints, restart points)
 * @param pointBytes bytes stored for random access beyond the archive itself (windows, prefixes,
 *     checksums), in the saved index
 * @param spilledBytes uncompressed bytes served from a spill file
 */
public record RandomAccess(String method, long points, long pointBytes, long spilledBytes) {
  public static final String DIRECT = "direct";
  public static final String LZOP_BLOCKS = "lzop-blocks";
  public static final String GZIP_CHECKPOINTS = "gzip-checkpoints";
  public static final String GZIP_CHECKPOINTS_AND_SPILL = "gzip-checkpoints+spill";
  public static final String ZSTD_FRAMES = "zstd-frames";
  public static final String ZSTD_RESTART_POINTS = "zstd-restart-points";
  public static final String ZSTD_RESTART_POINTS_AND_SPILL = "zstd-restart-points+spill";
  public static final String SPILL = "spill";
}
