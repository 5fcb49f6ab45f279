package vmafs.cli;

import java.io.BufferedReader;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import vmafs.archive.Archive;
import vmafs.archive.IndexLocation;
import vmafs.image.ImageContent;
import vmafs.fs.FuseMount;
import vmafs.fs.FuseMounts;
import vmafs.fs.MountOptions;
import vmafs.fs.ReadOnlyFs;
import vmafs.vma.ConfigBlob;
import vmafs.vma.MalformedArchiveException;
import vmafs.vma.image.DeviceImage;
import vmafs.vma.write.VmaWriter;

@Command(
    name = "mount",
    mixinStandardHelpOptions = true,
    description = {
      "Mount an archive read-only: one sparse raw image per drive (disk-<devname>.raw), each config",
      "under its own name. Returns once the files are readable, leaving the server running in the",
      "background (-f keeps it in the foreground). Unmount with 'vmafs umount MOUNTPOINT'.",
      "",
      "Holes (unallocated clusters) are reported through SEEK_DATA/SEEK_HOLE with libfuse3, so cp",
      "--sparse and qemu-img skip them. On hosts with only libfuse2 (--fuse=2) holes show only in",
      "st_blocks (du); copies then read the zeros."
    })
final class MountCommand implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(MountCommand.class);
  /**
   * The line a background server prints on stdout once its files are readable (read by the Java
   * front-end below, and by the launcher script, which starts the server directly).
   */
  static final String READY = "\u0001vmafs-ready";

  @Mixin CommonOptions common;

  @Mixin IndexOptions indexOptions;

  @Parameters(index = "0", paramLabel = "ARCHIVE", description = "The archive file.")
  String archive;

  @Parameters(index = "1", paramLabel = "MOUNTPOINT", description = "An existing directory.")
  Path mountpoint;

  @Option(names = "-o", split = ",", paramLabel = "OPTION",
      description = "FUSE mount options, e.g. allow_other (lets other users, e.g. a qemu user, read"
          + " the files; non-root users need user_allow_other in /etc/fuse.conf).")
  List<String> options = new ArrayList<>();

  @Option(names = {"-f", "--foreground"}, description = "Stay in the foreground; Ctrl-C unmounts.")
  boolean foreground;

  @Option(names = "--threads", paramLabel = "N", description = "FUSE request threads (default: 2-4 by CPU count).")
  Integer threads;

  @Option(names = "--cache-size", paramLabel = "SIZE", defaultValue = "256M",
      description = "Block cache for decompressed data, e.g. 512M (default: ${DEFAULT-VALUE}).")
  String cacheSize;

  @Option(names = "--page-cache",
      description = "Serve reads through the kernel page cache: re-reads come from memory and"
          + " shared mmap works, but cold sequential reads are several times slower. The default is"
          + " direct I/O (FUSE direct_io): every read reaches vmafs at the reader's request size.")
  boolean pageCache;

  @Option(names = "--partial",
      description = "Mount an incomplete archive: missing clusters read as zeros (and are holes),"
          + " duplicated clusters use the last copy. Logged once.")
  boolean partial;

  @Option(names = "--fuse", paramLabel = "auto|3|2", defaultValue = "auto",
      description = "FUSE library: 3 (libfuse3, holes via lseek), 2 (libfuse2 via jnr-fuse,"
          + " holes only in st_blocks), auto (default: 3 if installed).")
  String fuse;

  @Option(names = "--log-file", paramLabel = "PATH",
      description = "Where a background server logs (default: under $XDG_CACHE_HOME/vmafs/).")
  Path logFile;

  @Option(names = "--loop",
      description = "Also attach each disk image to a read-only loop device with its partitions"
          + " (losetup -r -P, partx -a) and print them; 'vmafs umount' detaches them. Needs root.")
  boolean loop;

  @Option(names = "--daemon-child", hidden = true)
  boolean daemonChild;

  @Override
  public Integer call() throws Exception {
    ArchiveArgs.existing(archive);
    if (!Files.isDirectory(mountpoint) && !isFuseMount(mountpoint)) {
      throw new CliException(ExitCodes.ENVIRONMENT, mountpoint + ": mount point must be an existing directory");
    }
    Units.parseSize(cacheSize); // fail early on a typo, before anything is spawned
    backend();
    if (loop && foreground) {
      throw new CliException(ExitCodes.USAGE, "--loop works only for a background mount (without -f)");
    }
    if (!foreground && !daemonChild) {
      return spawnServer();
    }
    return serve();
  }

  /**
   * Whether a FUSE mount sits on {@code path}: a dead one (its server was killed) answers stat with
   * ENOTCONN once the kernel's attribute cache has expired, so it is no directory to Java, but the
   * mount detaches it and goes on (FuseMounts).
   */
  private static boolean isFuseMount(Path path) {
    try {
      return vmafs.fuse.MountTable.at(vmafs.fuse.MountTable.canonical(path)).filter(vmafs.fuse.MountTable.Mount::isFuse)
          .isPresent();
    } catch (IOException | java.io.UncheckedIOException e) {
      return false;
    }
  }

  private MountOptions.Backend backend() {
    return switch (fuse) {
      case "auto" -> MountOptions.Backend.AUTO;
      case "3" -> MountOptions.Backend.FUSE3;
      case "2" -> MountOptions.Backend.FUSE2;
      default -> throw new CliException(ExitCodes.USAGE, "--fuse takes auto, 3 or 2, not '" + fuse + "'");
    };
  }

  /** Runs the filesystem in this process until it is unmounted. */
  private int serve() throws IOException, InterruptedException {
    preload();
    Archive a = ArchiveArgs.open(archive, indexOptions, Units.parseSize(cacheSize));
    try {
      Completeness.check(a.images().stream().map(DeviceImage::index).toList(), partial,
          "refusing to mount an incomplete archive");
      ReadOnlyFs fs = new ReadOnlyFs(files(a), a.header().ctime());
      int n = threads != null ? threads : Math.max(2, Math.min(4, Runtime.getRuntime().availableProcessors()));
      boolean allowOther = options.remove("allow_other");
      MountOptions opts = new MountOptions(mountpoint, a.path().toAbsolutePath().toString(), n,
          allowOther, fuseOptions(), backend());
      // The hook exists before the mount does: a SIGTERM that arrives while the mount comes up
      // waits for it and then unmounts, instead of leaving a dead mount behind.
      java.util.concurrent.CompletableFuture<FuseMount> mounted = new java.util.concurrent.CompletableFuture<>();
      Thread hook = new Thread(() -> {
        try {
          mounted.get(30, java.util.concurrent.TimeUnit.SECONDS).close();
        } catch (Exception e) {
          // the mount failed or never came up: nothing to unmount
        }
      }, "vmafs-unmount");
      Runtime.getRuntime().addShutdownHook(hook);
      FuseMount mount;
      try {
        mount = FuseMounts.mount(fs, opts);
        mounted.complete(mount);
      } catch (RuntimeException e) {
        mounted.completeExceptionally(e);
        throw e;
      }
      ArchiveWatcher watcher = ArchiveWatcher.start(a);
      printSummary(a, fs, mount, System.out);
      if (loop) {
        // The server attaches them itself, before it reports ready: whoever started it (the
        // launcher script or the Java front-end) only waits for that line.
        LoopDevices.attachOrUnmount(mountpoint, System.out);
      }
      if (daemonChild) {
        System.out.println(READY);
        System.out.flush();
        detach();
      }
      log.info("serving {} on {} with {} ({} threads)", a.path(), mountpoint, mount.backend(), n);
      mount.awaitUnmount();
      watcher.close();
      log.info("{} unmounted", mountpoint);
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // already shutting down: the hook is running
      }
      return ExitCodes.OK;
    } finally {
      a.close();
    }
  }

  /**
   * The {@code -o} options for libfuse. Direct I/O unless {@code --page-cache}: measured on these
   * machines (docs/benchmarks.md), a cold sequential read through the page cache runs at 0.7-2.4
   * GB/s, direct at ~5 GB/s, and a sparse copy's small reads no longer drag in 1 MiB of readahead
   * each. The archive itself is in the page cache either way, so re-reads stay cheap.
   */
  private List<String> fuseOptions() {
    List<String> out = new ArrayList<>(options);
    if (pageCache) {
      if (out.contains(MountOptions.DIRECT_IO)) {
        throw new CliException(ExitCodes.USAGE, "--page-cache and -o direct_io contradict each other");
      }
    } else if (!out.contains(MountOptions.DIRECT_IO)) {
      out.add(MountOptions.DIRECT_IO);
    }
    return out;
  }

  /**
   * Loads the native bindings (jnr-ffi generates their classes: 0.1-0.3 s each) on a second
   * thread while this one opens the archive: libfuse3 for the mount, libc for detach(), which
   * runs right after the parent is told the mount is ready and keeps it waiting until then.
   */
  private void preload() {
    boolean fuse3 = backend() != MountOptions.Backend.FUSE2;
    if (!fuse3 && !daemonChild) {
      return;
    }
    Thread t = new Thread(() -> {
      try {
        if (fuse3) {
          vmafs.fuse3.Fuse3Session.isUsable();
        }
        if (daemonChild) {
          Posix.preload();
        }
      } catch (Throwable e) {
        // whoever needs the binding reports the failure
      }
    }, "vmafs-preload");
    t.setDaemon(true);
    t.start();
  }

  /**
   * The files of the mount: disk images, configs, then the partitions of each disk; names from the
   * archive are checked like extract checks them.
   */
  private static List<ReadOnlyFs.Entry> files(Archive a) throws IOException {
    List<ReadOnlyFs.Entry> out = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (DeviceImage img : a.images()) {
      ExtractTarget.checkDeviceName(img.info());
      out.add(new ReadOnlyFs.Entry(img.info().imageFileName(), new ImageFile(img)));
      names.add(img.info().imageFileName());
    }
    for (ConfigBlob c : a.header().configs()) {
      try {
        VmaWriter.NameRules.checkConfigName(c.name());
      } catch (IllegalArgumentException e) {
        throw new MalformedArchiveException("config name", 0, "'" + c.name() + "' is not a safe file name");
      }
      if (!names.add(c.name())) {
        throw new MalformedArchiveException("config name", 0, "'" + c.name() + "' appears twice");
      }
      out.add(new ReadOnlyFs.Entry(c.name(), ImageContent.ofBytes(c.data())));
    }
    // Last, so that the disks and configs keep their inode numbers.
    out.addAll(PartitionFiles.entries(a, names));
    return out;
  }

  private void printSummary(Archive a, ReadOnlyFs fs, FuseMount mount, PrintStream out) {
    StringBuilder sb = new StringBuilder();
    sb.append("mounted ").append(a.path()).append(" on ").append(mountpoint.toAbsolutePath()).append('\n');
    for (ReadOnlyFs.Entry e : fs.files()) {
      sb.append(String.format("  %-48s %10s  (%s data)%n", mountpoint.toAbsolutePath().resolve(e.name()),
          Units.bytes(e.content().size()), Units.bytes(e.content().allocatedBytes())));
    }
    if (!mount.supportsHoles()) {
      sb.append("note: libfuse2 backend: holes are visible to du but not to SEEK_DATA/SEEK_HOLE\n");
    }
    out.print(sb);
    out.flush();
  }

  /** A background server stops writing to the terminal: its output goes to the log file. */
  private void detach() throws IOException {
    Path logPath = logFile != null ? logFile : defaultLogFile();
    Files.createDirectories(logPath.toAbsolutePath().getParent());
    Posix.redirectStdoutAndStderr(logPath.toString());
    PrintStream ps = new PrintStream(new FileOutputStream(logPath.toFile(), true), true, StandardCharsets.UTF_8);
    System.setOut(ps);
    System.setErr(ps);
    vmafs.cli.log.CliLogging.setOutput(ps);
    vmafs.cli.log.CliLogging.setTimestamps(true);
  }

  private Path defaultLogFile() {
    String mp = mountpoint.toAbsolutePath().normalize().toString().replaceAll("[^A-Za-z0-9._-]", "_");
    return IndexLocation.cacheDir().resolve("log").resolve("mount" + mp + ".log");
  }

  /**
   * Starts this command again as a detached server ({@code setsid}), forwards its stderr (progress,
   * warnings, errors) and stdout until it reports readiness, and returns its verdict.
   */
  private int spawnServer() throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add("setsid");
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(Main.class.getName());
    cmd.addAll(childArgs());
    Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
    Thread shutdown = new Thread(p::destroy); // Ctrl-C while indexing stops the server too
    Runtime.getRuntime().addShutdownHook(shutdown);
    Thread err = forward(p.getErrorStream(), System.err);
    boolean ready = false;
    try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = out.readLine()) != null) {
        if (line.equals(READY)) {
          ready = true;
          break;
        }
        System.out.println(line);
      }
    }
    System.out.flush();
    Runtime.getRuntime().removeShutdownHook(shutdown);
    if (ready) {
      err.join(2000);
      return ExitCodes.OK;
    }
    int code = p.waitFor();
    err.join(2000);
    return code == 0 ? ExitCodes.INTERNAL : code;
  }

  private static Thread forward(InputStream in, PrintStream to) {
    Thread t = new Thread(() -> {
      byte[] buf = new byte[8192];
      try {
        int n;
        while ((n = in.read(buf)) > 0) {
          to.write(buf, 0, n);
          to.flush();
        }
      } catch (IOException e) {
        // the server closed its stderr: nothing more to forward
      }
    }, "vmafs-forward-stderr");
    t.setDaemon(true);
    t.start();
    return t;
  }

  /** This command's arguments for the server process. */
  private List<String> childArgs() {
    List<String> a = new ArrayList<>(List.of("mount", "--daemon-child"));
    if (common.verbose) {
      a.add("--verbose");
    }
    if (common.debug) {
      a.add("--debug");
    }
    if (indexOptions.indexFile != null) {
      a.add("--index-file=" + indexOptions.indexFile.toAbsolutePath());
    }
    if (indexOptions.reindex) {
      a.add("--reindex");
    }
    if (indexOptions.ignoreMtime) {
      a.add("--ignore-mtime");
    }
    if (indexOptions.noSave) {
      a.add("--no-save-index");
    }
    for (String o : options) {
      a.add("-o");
      a.add(o);
    }
    if (threads != null) {
      a.add("--threads=" + threads);
    }
    a.add("--cache-size=" + cacheSize);
    if (partial) {
      a.add("--partial");
    }
    if (pageCache) {
      a.add("--page-cache");
    }
    if (loop) {
      a.add("--loop");
    }
    a.add("--fuse=" + fuse);
    if (logFile != null) {
      a.add("--log-file=" + logFile.toAbsolutePath());
    }
    a.add("--");
    a.add(Path.of(archive).toAbsolutePath().toString());
    a.add(mountpoint.toAbsolutePath().toString());
    return a;
  }
}
