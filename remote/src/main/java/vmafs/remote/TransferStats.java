package vmafs.remote;

import java.util.Locale;

/**
 * What reading a remote archive cost so far: requests sent (each range GET, each streaming GET,
 * the opening request), body bytes received, retries made, how many piece reads the cache
 * answered, pieces fetched (sequential reads, read-ahead) and exact ranges fetched (reads outside a
 * sequential run). {@code vmafs info} prints these; tests compare them with what the server saw.
 */
public record TransferStats(long requests, long bytesReceived, long retries, long cacheHits,
    long piecesFetched, long rangesFetched) {

  /** One line for people: "3 requests, 2.0 MiB received, 0 retries". */
  public String summary() {
    return requests + (requests == 1 ? " request, " : " requests, ") + mib(bytesReceived) + " received, "
        + retries + (retries == 1 ? " retry" : " retries");
  }

  private static String mib(long bytes) {
    return bytes < 1 << 20 ? bytes + " B" : String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
  }
}
