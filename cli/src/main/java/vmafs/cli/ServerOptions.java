package vmafs.cli;

import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Options of the commands that run a server over an archive (mount, nbd). */
final class ServerOptions {
  @Option(names = "--cache-size", paramLabel = "SIZE", defaultValue = "256M",
      description = "Block cache for decompressed data, e.g. 512M (default: ${DEFAULT-VALUE}).")
  String cacheSize;

  @Option(names = "--log-file", paramLabel = "PATH",
      description = "Where a background server logs (default: under $XDG_CACHE_HOME/vmafs/log/).")
  Path logFile;

  /** Set by {@link Daemon#spawn} on the server it starts in the background. */
  @Option(names = "--daemon-child", hidden = true)
  boolean daemonChild;

  /** The cache size in bytes; a typo fails here, before anything is spawned. */
  long cacheBytes() {
    return Units.parseSize(cacheSize);
  }

  /**
   * In a background server, its log ({@link Daemon#openLog}, named by {@code kind} and {@code
   * what} unless --log-file names it); -1 in the foreground.
   */
  int openLog(String kind, Path what) throws IOException {
    return daemonChild ? Daemon.openLog(logFile, kind, what) : -1;
  }
}
