package vmafs.cli;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Option;
import vmafs.remote.ArchiveLocation;
import vmafs.remote.RemoteStoredBytes;
import vmafs.source.ArchiveFormat;
import vmafs.vma.io.StoredBytes;

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
   * Room for the index pass of a remote archive, whose size is unknown when its server's JVM
   * starts (the launcher sees only the URL; asking the store first would cost a second JVM and SDK
   * start): the pass tables of a 512 GiB archive at 1/2048, or of a 2 GiB {@code .gz} at 1/8, and
   * the 32 MiB a remote pass's stream keeps of what it passed (RemoteStoredBytes.STREAM_TAIL). Once opened,
   * the server compares the real room with it ({@link #servingCacheBytes(StoredBytes)}). The
   * launcher script adds the same (remote_pass_room_mib).
   */
  static final long REMOTE_PASS_ROOM = 256L << 20;

  /**
   * The maximum heap a server JVM gets, in MiB: --cache-size (rounded up to MiB), {@link
   * #HEAP_MARGIN}, and room for the index pass ({@link #passRoom}). For an archive in S3 or behind
   * a URL, whose size and format are known only once it is opened, the room is {@link
   * #PASS_OUTPUT} (any object may be compressed, whatever its name) plus {@link
   * #REMOTE_PASS_ROOM}. The launcher script computes the same from the command line.
   */
  long heapBoundMibFor(String archive) {
    return RemoteArchiveOptions.location(archive) instanceof ArchiveLocation.Local local
        ? heapBoundMib(local.path()) : cacheMib() + ((HEAP_MARGIN + PASS_OUTPUT + REMOTE_PASS_ROOM) >> 20);
  }

  /**
   * {@link #heapBoundMibFor} for a local archive file.
   *
   * @param archive the archive file, or null (not a regular file: no pass room)
   */
  long heapBoundMib(Path archive) {
    long pass = 0;
    if (archive != null && java.nio.file.Files.isRegularFile(archive)) {
      try {
        pass = passRoom(java.nio.file.Files.size(archive), archive.getFileName().toString());
      } catch (IOException e) {
        // unreadable: the server says so itself
      }
    }
    return cacheMib() + (HEAP_MARGIN >> 20) + (pass >> 20);
  }

  private long cacheMib() {
    return (cacheBytes() + (1 << 20) - 1) >> 20;
  }

  /**
   * Heap the index pass of an archive of {@code size} bytes named {@code name} needs beside the
   * cache (the launcher, too, goes by the name).
   */
  static long passRoom(long size, String name) {
    return passRoom(size, name.endsWith(".gz"), name.endsWith(".gz") || name.endsWith(".zst") || name.endsWith(".lzo"));
  }

  /**
   * The pass's tables, which grow with the archive (1/2048 of its size; 1/8 for a .gz, whose pass
   * keeps a window per checkpoint), plus {@link #PASS_OUTPUT} for a compressed archive.
   */
  static long passRoom(long size, boolean gzip, boolean compressed) {
    return (gzip ? size / 8 : size / 2048) + (compressed ? PASS_OUTPUT : 0);
  }

  /**
   * The cache this server runs with: --cache-size, unless the JVM's maximum heap (an -Xmx of the
   * user's, or a JVM started without the launcher) cannot hold it and the margin; then less, with
   * a warning, rather than an OutOfMemoryError in the middle of a read.
   */
  long servingCacheBytes() {
    return servingCacheBytes(maxHeapBytes(), 0, null);
  }

  /**
   * {@link #servingCacheBytes()} for the opened archive. A remote one's heap was bounded before
   * its size was known ({@link #REMOTE_PASS_ROOM}); now the room its pass may need is known
   * ({@link #passRoom}, by the object's size and detected format), and where the heap cannot hold
   * it beside the cache the cache gives way, and the log says which -Xmx would hold both. (With a saved index no pass runs; the
   * cache cannot wait for that to be known, as the archive is opened with it.)
   */
  long servingCacheBytes(StoredBytes stored) {
    if (!(stored instanceof RemoteStoredBytes)) {
      return servingCacheBytes();
    }
    ArchiveFormat format;
    long size;
    try {
      format = ArchiveFormat.detect(stored); // the first piece, fetched when the object was opened
      size = stored.size();
    } catch (IOException e) {
      return servingCacheBytes(); // not an archive: opening it says so
    }
    return servingCacheBytes(maxHeapBytes(), passRoom(size, format == ArchiveFormat.GZIP,
        format != ArchiveFormat.RAW_VMA), stored.name());
  }

  /**
   * The cache for a heap of {@code heap} bytes that must also hold {@code passRoom} bytes for the
   * index pass of {@code archive} (named in the warning).
   */
  long servingCacheBytes(long heap, long passRoom, String archive) {
    long want = cacheBytes();
    if (want + HEAP_MARGIN + passRoom <= heap) {
      return want;
    }
    long fit = Math.max(MIN_CACHE, heap - HEAP_MARGIN - passRoom);
    if (passRoom == 0) {
      log.warn("the Java heap ({} MiB) cannot hold --cache-size={} and the {} MiB the server needs"
          + " besides; using a {} MiB cache (raise -Xmx in VMAFS_JAVA_OPTS, or lower --cache-size)",
          heap >> 20, cacheSize, HEAP_MARGIN >> 20, fit >> 20);
    } else {
      log.warn("{}: the Java heap ({} MiB) cannot hold --cache-size={}, the {} MiB the server needs"
          + " besides and the {} MiB its index pass may need; using a {} MiB cache (to keep the"
          + " cache: VMAFS_JAVA_OPTS=-Xmx{}m)", archive, heap >> 20, cacheSize, HEAP_MARGIN >> 20,
          passRoom >> 20, fit >> 20, (want + HEAP_MARGIN + passRoom + (1 << 20) - 1) >> 20);
    }
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
