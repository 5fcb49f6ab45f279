package vmafs.cli;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Option;
import vmafs.remote.ArchiveLocation;

/** Options of the commands that run a server over an archive (mount, nbd). */
final class ServerOptions {
  private static final Logger log = LoggerFactory.getLogger(ServerOptions.class);

  /**
   * Heap a server needs besides its block cache: index tables, the decode pieces in flight, the
   * collector's room to work (docs/design.md, "Memory", and docs/benchmarks.md for the measurement).
   * The launcher script (cli/src/main/sh/vmafs) adds the same figure to --cache-size for -Xmx.
   */
  static final long HEAP_MARGIN = 96L << 20;

  /**
   * Heap the index pass of a compressed archive keeps for reads while it runs: the last output it
   * decoded (vmafs.source.LiveSource#RECENT_OUTPUT_BYTES), which those reads copy instead of
   * decoding it again. The launcher script adds the same.
   */
  static final long PASS_OUTPUT = 64L << 20;

  /** The least cache a server runs with when its heap is too small for --cache-size. */
  private static final long MIN_CACHE = 16L << 20;
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
   * The maximum heap a server JVM gets, in MiB: --cache-size (rounded up to MiB), {@link
   * #HEAP_MARGIN}, and room for the index pass's tables, which grow with the archive: 1/2048 of its
   * size, 1/8 for a .gz, whose pass keeps a window per checkpoint; plus {@link #PASS_OUTPUT} for a
   * compressed archive. The launcher script computes the same from the command line.
   *
   * @param archive the archive file, or null (remote, or not a regular file)
   */
  /**
   * {@link #heapBoundMib(Path)} for an ARCHIVE argument, or 0 for an archive in S3 or behind a URL:
   * its size and format (the pass room) are only known once it is opened, so its server keeps the
   * JVM's default maximum heap rather than one that could be too small for its pass (the launcher
   * does the same).
   */
  long heapBoundMibFor(String archive) {
    return RemoteArchiveOptions.location(archive) instanceof ArchiveLocation.Local local
        ? heapBoundMib(local.path()) : 0;
  }

  long heapBoundMib(Path archive) {
    long pass = 0;
    if (archive != null && java.nio.file.Files.isRegularFile(archive)) {
      try {
        long size = java.nio.file.Files.size(archive);
        String name = archive.getFileName().toString();
        pass = name.endsWith(".gz") ? size / 8 : size / 2048;
        if (name.endsWith(".gz") || name.endsWith(".zst") || name.endsWith(".lzo")) {
          pass += PASS_OUTPUT;
        }
      } catch (IOException e) {
        // unreadable: the server says so itself
      }
    }
    return ((cacheBytes() + (1 << 20) - 1) >> 20) + (HEAP_MARGIN >> 20) + (pass >> 20);
  }

  /**
   * The cache this server runs with: --cache-size, unless the JVM's maximum heap (an -Xmx of the
   * user's, or a JVM started without the launcher) cannot hold it and the margin; then less, with
   * a warning, rather than an OutOfMemoryError in the middle of a read.
   */
  long servingCacheBytes() {
    long want = cacheBytes();
    long heap = maxHeapBytes();
    if (want + HEAP_MARGIN <= heap) {
      return want;
    }
    long fit = Math.max(MIN_CACHE, heap - HEAP_MARGIN);
    log.warn("the Java heap ({} MiB) cannot hold --cache-size={} and the {} MiB the server needs"
        + " besides; using a {} MiB cache (raise -Xmx in VMAFS_JAVA_OPTS, or lower --cache-size)",
        heap >> 20, cacheSize, HEAP_MARGIN >> 20, fit >> 20);
    return Math.min(want, fit);
  }

  /** The JVM's MaxHeapSize (-Xmx): exact, where Runtime.maxMemory() leaves out a survivor space. */
  static long maxHeapBytes() {
    try {
      return Long.parseLong(ManagementFactory.getPlatformMXBean(
          com.sun.management.HotSpotDiagnosticMXBean.class).getVMOption("MaxHeapSize").getValue());
    } catch (RuntimeException e) {
      return Runtime.getRuntime().maxMemory();
    }
  }

  /**
   * In a background server, its log ({@link Daemon#openLog}, named by {@code kind} and {@code
   * what} unless --log-file names it); -1 in the foreground.
   */
  int openLog(String kind, Path what) throws IOException {
    return daemonChild ? Daemon.openLog(logFile, kind, what) : -1;
  }
}
