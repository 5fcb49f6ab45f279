package vmafs.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Option;
import vmafs.remote.ArchiveLocation;
import vmafs.remote.RemoteIndexLocation;
import vmafs.remote.RemoteOptions;
import vmafs.remote.RemoteStoredBytes;
import vmafs.remote.TransferStats;
import vmafs.vma.io.StoredBytes;

/**
 * Options for archives given as {@code s3://BUCKET/KEY} or {@code http(s)://} URLs, for every
 * command that takes ARCHIVE ({@code @Mixin RemoteArchiveOptions remote;}), and the one place that
 * turns an ARCHIVE argument into the {@link StoredBytes} to read.
 */
final class RemoteArchiveOptions {
  @Option(names = "--endpoint-url", paramLabel = "URL",
      description = "S3 endpoint for s3:// archives in other stores than AWS (MinIO, Ceph RGW, Wasabi,"
          + " Backblaze B2...). Default: $AWS_ENDPOINT_URL_S3, else $AWS_ENDPOINT_URL, else AWS.")
  String endpointUrl;

  @Option(names = "--profile", paramLabel = "NAME",
      description = "Profile of ~/.aws/credentials and ~/.aws/config for s3:// archives"
          + " (default: $AWS_PROFILE, else the AWS SDK's default chain: environment, profile, role).")
  String profile;

  @Option(names = "--path-style",
      description = "Address S3 objects as ENDPOINT/BUCKET/KEY instead of BUCKET.ENDPOINT/KEY"
          + " (automatic for endpoints that are an IP address or localhost).")
  boolean pathStyle;

  @Option(names = "--piece-size", paramLabel = "SIZE",
      description = "Bytes per range request to a remote archive, 64K to 16M (default: 1M).")
  String pieceSize;

  /** The options as given; a malformed value is a usage error (exit 2). */
  RemoteOptions options() {
    RemoteOptions o = RemoteOptions.defaults().withProfile(profile).withPathStyle(pathStyle);
    try {
      if (endpointUrl != null) {
        o = o.withEndpoint(RemoteOptions.endpoint(endpointUrl));
      }
      if (pieceSize != null) {
        long bytes = Units.parseSize(pieceSize);
        if (bytes < RemoteOptions.MIN_PIECE || bytes > RemoteOptions.MAX_PIECE) {
          throw new CliException(ExitCodes.USAGE, "--piece-size " + pieceSize + ": must be between 64K and 16M");
        }
        o = o.withPieceSize((int) bytes);
      }
    } catch (IllegalArgumentException e) {
      throw new CliException(ExitCodes.USAGE, "--endpoint-url: " + e.getMessage());
    }
    return o;
  }

  /** Where ARCHIVE is; a malformed URL is a usage error (exit 2). */
  static ArchiveLocation location(String archive) {
    try {
      return ArchiveLocation.parse(archive);
    } catch (IllegalArgumentException e) {
      throw new CliException(ExitCodes.USAGE, e.getMessage());
    }
  }

  /**
   * Opens ARCHIVE for reading: a local file (checked as {@link ArchiveArgs#existing} does), or the
   * first range request of a remote one, whose failures are one-line errors (exit 5).
   */
  /**
   * Checks ARCHIVE without opening it (a background server's parent: the server opens it): a local
   * file must exist, a URL must be well-formed. Returns a path to name things after (sockets):
   * the file, or the URL's last segment.
   */
  Path check(String archive) {
    ArchiveLocation where = location(archive);
    if (where instanceof ArchiveLocation.Local local) {
      return ArchiveArgs.existing(local.path().toString());
    }
    return Path.of(RemoteIndexLocation.fileName(where.displayName()));
  }

  /**
   * A path to name files after (a server's log): the archive's path, or its URL as shown in
   * messages (without a query string, which may be a pre-signed URL's signature).
   */
  static Path forNames(String archive) {
    ArchiveLocation where = location(archive);
    return where instanceof ArchiveLocation.Local local ? local.path() : Path.of(where.displayName());
  }

  /** {@code info --json}'s {@code remote}: what reading a remote archive cost; null for a file. */
  static Map<String, Object> transferJson(StoredBytes stored) {
    if (!(stored instanceof RemoteStoredBytes r)) {
      return null;
    }
    TransferStats t = r.stats();
    Map<String, Object> o = Json.object();
    o.put("version_tag", r.versionTag());
    o.put("piece_size", r.pieceSize());
    o.put("requests", t.requests());
    o.put("bytes_received", t.bytesReceived());
    o.put("retries", t.retries());
    o.put("cache_hits", t.cacheHits());
    o.put("pieces_fetched", t.piecesFetched());
    o.put("ranges_fetched", t.rangesFetched());
    return o;
  }

  /** The same for people: one line, empty for a file. */
  static String transferText(StoredBytes stored) {
    if (!(stored instanceof RemoteStoredBytes r)) {
      return "";
    }
    return "transfer:    " + r.stats().summary() + " (version " + vmafs.cli.log.Printable.of(String.valueOf(r.versionTag()))
        + ", " + Units.bytes(r.pieceSize()) + " pieces)\n";
  }

  StoredBytes open(String archive) throws IOException {
    ArchiveLocation where = location(archive);
    if (where instanceof ArchiveLocation.Local local) {
      ArchiveArgs.existing(local.path().toString());
    }
    return where.open(options());
  }
}
