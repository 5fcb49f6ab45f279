package vmafs.remote;

import java.net.URI;
import java.time.Duration;

/**
 * How to reach and read a remote archive.
 *
 * @param endpoint S3 endpoint for non-AWS stores (MinIO, Ceph RGW, s3proxy…); null means the SDK's
 *     own resolution from the region, unless {@code AWS_ENDPOINT_URL_S3}/{@code AWS_ENDPOINT_URL} is set
 * @param profile the {@code ~/.aws} profile for credentials and region; null means the default chains
 * @param pathStyle force path-style addressing ({@code http://host/bucket/key}); it is chosen
 *     anyway for endpoints that are an IP address or {@code localhost}
 * @param pieceSize bytes per range request and per cache entry
 * @param cacheBytes bound of the piece cache
 * @param readAheadPieces pieces fetched ahead of a sequential reader
 * @param parallelism range requests in flight at once (fetch threads)
 * @param retry retries of failed requests
 * @param connectTimeout for opening a connection
 * @param readTimeout longest wait for response headers, or for more body bytes
 */
public record RemoteOptions(URI endpoint, String profile, boolean pathStyle, int pieceSize,
    long cacheBytes, int readAheadPieces, int parallelism, RetryPolicy retry,
    Duration connectTimeout, Duration readTimeout) {

  public static final int MIN_PIECE = 64 << 10;
  public static final int MAX_PIECE = 16 << 20;
  public static final int DEFAULT_PIECE = 1 << 20;

  public RemoteOptions {
    if (pieceSize < MIN_PIECE || pieceSize > MAX_PIECE) {
      throw new IllegalArgumentException("piece size must be between 64 KiB and 16 MiB, not " + pieceSize);
    }
    if (parallelism < 1 || parallelism > 64) {
      throw new IllegalArgumentException("parallelism must be 1-64, not " + parallelism);
    }
    if (readAheadPieces < 0 || readAheadPieces > 256) {
      throw new IllegalArgumentException("read-ahead must be 0-256 pieces, not " + readAheadPieces);
    }
    if (cacheBytes < pieceSize) {
      throw new IllegalArgumentException("the piece cache must hold at least one piece");
    }
    if (endpoint != null) {
      checkEndpoint(endpoint);
    }
  }

  /** Parses an S3 endpoint URL ({@code --endpoint-url}, {@code AWS_ENDPOINT_URL}). */
  public static URI endpoint(String url) {
    try {
      return checkEndpoint(new URI(url.trim()));
    } catch (java.net.URISyntaxException e) {
      throw new IllegalArgumentException("not a URL: " + url, e);
    }
  }

  private static URI checkEndpoint(URI e) {
    String scheme = e.getScheme();
    if (scheme == null || e.getHost() == null
        || !(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https"))) {
      throw new IllegalArgumentException("the endpoint URL must be http://HOST[:PORT] or https://HOST[:PORT], not " + e);
    }
    return e;
  }

  /** 1 MiB pieces, 64 MiB of cache, 8 pieces of read-ahead, 4 requests in flight. */
  public static RemoteOptions defaults() {
    return new RemoteOptions(null, null, false, DEFAULT_PIECE, 64L << 20, 8, 4, RetryPolicy.defaults(),
        Duration.ofSeconds(10), Duration.ofSeconds(30));
  }

  public RemoteOptions withEndpoint(URI e) {
    return new RemoteOptions(e, profile, pathStyle, pieceSize, cacheBytes, readAheadPieces, parallelism, retry,
        connectTimeout, readTimeout);
  }

  public RemoteOptions withProfile(String p) {
    return new RemoteOptions(endpoint, p, pathStyle, pieceSize, cacheBytes, readAheadPieces, parallelism, retry,
        connectTimeout, readTimeout);
  }

  public RemoteOptions withPathStyle(boolean force) {
    return new RemoteOptions(endpoint, profile, force, pieceSize, cacheBytes, readAheadPieces, parallelism, retry,
        connectTimeout, readTimeout);
  }

  /** Also grows the cache to hold the read-ahead window twice over, if it would not. */
  public RemoteOptions withPieceSize(int bytes) {
    long cache = Math.max(cacheBytes, 2L * bytes * (readAheadPieces + parallelism));
    return new RemoteOptions(endpoint, profile, pathStyle, bytes, cache, readAheadPieces, parallelism, retry,
        connectTimeout, readTimeout);
  }

  public RemoteOptions withCacheBytes(long bytes) {
    return new RemoteOptions(endpoint, profile, pathStyle, pieceSize, bytes, readAheadPieces, parallelism, retry,
        connectTimeout, readTimeout);
  }

  public RemoteOptions withReadAhead(int pieces) {
    return new RemoteOptions(endpoint, profile, pathStyle, pieceSize, cacheBytes, pieces, parallelism, retry,
        connectTimeout, readTimeout);
  }

  public RemoteOptions withParallelism(int requests) {
    return new RemoteOptions(endpoint, profile, pathStyle, pieceSize, cacheBytes, readAheadPieces, requests, retry,
        connectTimeout, readTimeout);
  }

  public RemoteOptions withRetry(RetryPolicy r) {
    return new RemoteOptions(endpoint, profile, pathStyle, pieceSize, cacheBytes, readAheadPieces, parallelism, r,
        connectTimeout, readTimeout);
  }

  public RemoteOptions withTimeouts(Duration connect, Duration read) {
    return new RemoteOptions(endpoint, profile, pathStyle, pieceSize, cacheBytes, readAheadPieces, parallelism, retry,
        connect, read);
  }
}
