package vmafs.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import vmafs.archive.Archive;
import vmafs.service.ArchiveService;
import vmafs.archive.IndexLocation;
import vmafs.image.ImageContent;
import vmafs.fs.FuseMount;
import vmafs.fs.FuseMounts;
import vmafs.fs.MountOptions;
import vmafs.fs.ReadOnlyFs;
import vmafs.vma.ConfigBlob;
import vmafs.vma.MalformedArchiveException;
import vmafs.vma.image.DeviceImage;
import vmafs.cli.log.Printable;

@Command(
    name = "mount",
    mixinStandardHelpOptions = true,
    header = "Mount an archive read-only, each drive as a sparse raw disk image.",
    description = {
      "The mount point holds one disk-<devname>.raw per drive (the names Proxmox's 'vma extract'"
          + " gives) and each config under its own name. The command returns once the files are"
          + " readable and leaves the server running in the background (-f keeps it in the"
          + " foreground); 'vmafs umount MOUNTPOINT' ends it.",
      "",
      "Without MOUNTPOINT, a directory named after the archive is made beside it, or under"
          + " /run/vmafs/ (root) or $XDG_RUNTIME_DIR/vmafs/ when the archive's directory is not"
          + " writable or others can write it; it is removed again on unmount.",
      "",
      "Holes (unallocated clusters) are reported through SEEK_DATA/SEEK_HOLE with libfuse3, so"
          + " 'cp --sparse=auto' and qemu-img skip them. On hosts with only libfuse2 (--fuse=2)"
          + " holes show only in st_blocks (du); copies then read the zeros.",
      "",
      "mount(8) and /etc/fstab work too (type fuse.vmafs, through mount.fuse3): the generic"
          + " options ro, nofail, noauto, user, _netdev, x-systemd.*, noexec, nosuid and nodev are"
          + " accepted, rw is refused."
    },
    footer = {
      "  vmafs mount vzdump-qemu-100-2026_11_22-12_00_00.vma.zst /mnt/vm",
      "  vmafs mount -o allow_other --loop vzdump-qemu-100-2026_11_22-12_00_00.vma.zst",
      "  vmafs mount --json --pid-file /run/vm100.pid vzdump-qemu-100-2026_11_22-12_00_00.vma.zst /mnt/vm",
      "  mount -t fuse.vmafs -o ro,allow_other vzdump-qemu-100-2026_11_22-12_00_00.vma.zst /mnt/vm"
    })
final class MountCommand implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(MountCommand.class);
  @Mixin CommonOptions common;
  @Mixin ServerOptions serverOptions;

  @Mixin IndexOptions indexOptions;

  @Spec CommandSpec spec;

  @Mixin RemoteArchiveOptions remote;

  @Parameters(index = "0", paramLabel = "ARCHIVE", description = "The archive: a file, s3://BUCKET/KEY or an http(s):// URL.")
  String archive;

  @Parameters(index = "1", arity = "0..1", paramLabel = "MOUNTPOINT",
      description = "An existing directory (default: one made beside the archive, see above).")
  Path mountpoint;

  /** The mount point was made for this mount (no MOUNTPOINT given): removed after the unmount. */
  private volatile boolean madeMountpoint;

  /** Written once the files are readable; removed when the server ends. */
  private volatile PidFile writtenPidFile;

  @Option(names = "-o", split = ",", paramLabel = "OPTION",
      description = "Mount options, e.g. allow_other (lets other users, e.g. a qemu user, read"
          + " the files; non-root users need user_allow_other in /etc/fuse.conf). The generic"
          + " options of mount(8) and fstab are accepted and ignored; rw is refused.")
  List<String> options = new ArrayList<>();

  @Option(names = {"-f", "--foreground"}, description = "Stay in the foreground; Ctrl-C unmounts.")
  boolean foreground;

  @Option(names = "--threads", paramLabel = "N", description = "FUSE request threads (default: 2-4 by CPU count).")
  Integer threads;

  @Option(names = "--page-cache",
      description = "Serve reads through the kernel page cache: re-reads come from memory and"
          + " shared mmap works, but cold sequential reads are several times slower. The default is"
          + " direct I/O (FUSE direct_io): every read reaches vmafs at the reader's request size.")
  boolean pageCache;

  @Option(names = "--partial",
      description = "Mount an incomplete archive: missing clusters read as zeros (and are holes),"
          + " duplicated clusters use the last copy. Logged once.")
  boolean partial;

  @Option(names = "--wait",
      description = "Return only once the index pass is over (and refuse an incomplete archive"
          + " without --partial). By default the command returns as soon as the header is read and"
          + " the pass goes on in the server: reads of what it has not reached yet wait for it."
          + " Implied by --fuse=2 (one request thread: a waiting read would hold up every other).")
  boolean waitForIndex;

  @Option(names = "--fuse", paramLabel = "auto|3|2", defaultValue = "auto",
      description = "FUSE library: 3 (libfuse3, holes via lseek), 2 (libfuse2 via jnr-fuse,"
          + " holes only in st_blocks), auto (default: 3 if installed).")
  String fuse;

  @Option(names = "--loop",
      description = "Also attach each disk image to a read-only loop device with its partitions"
          + " (losetup -r -P, partx -a) and print them; 'vmafs umount' detaches them. Needs root.")
  boolean loop;

  @Option(names = "--pid-file", paramLabel = "PATH",
      description = "Write the server's process id to PATH once the files are readable (for"
          + " systemd's PIDFile= or scripts); removed when the server ends.")
  Path pidFile;

  @Option(names = "--json", description = "Print what was mounted as JSON (docs/json.md) instead of text.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    remote.check(archive);
    options = FstabOptions.forLibfuse(options);
    if (mountpoint != null && !Files.isDirectory(mountpoint) && !isFuseMount(mountpoint)) {
      throw new CliException(ExitCodes.ENVIRONMENT, mountpoint + ": mount point must be an existing directory");
    }
    serverOptions.cacheBytes(); // fail early on a typo, before anything is spawned
    backend();
    if (loop && foreground) {
      throw new CliException(ExitCodes.USAGE, "--loop works only for a background mount (without -f)");
    }
    if (!foreground && !serverOptions.daemonChild) {
      return Daemon.spawn(spec, serverOptions.heapBoundMibFor(archive));
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
    long started = System.nanoTime();
    startup("server started");
    // Whatever can fail happens before the server reports ready, or the mount would vanish after
    // its caller was told it succeeded.
    // Without a mount point (made beside the archive later) the log is named after the archive.
    int logFd = serverOptions.openLog("mount", mountpoint != null ? mountpoint : RemoteArchiveOptions.forNames(archive));
    // libfuse2 serves one request at a time: a read waiting for the pass would stall the mount.
    boolean wait = waitForIndex || backend() == MountOptions.Backend.FUSE2;
    vmafs.vma.io.StoredBytes stored = remote.open(archive);
    startup("archive bytes opened");
    ArchiveService service = ArchiveArgs.serve(stored, indexOptions, serverOptions.servingCacheBytes(stored),
        partial, wait, "refusing to mount an incomplete archive");
    startup("archive opened");
    try {
      if (mountpoint == null) {
        mountpoint = service.localPath() != null ? AutoMountpoint.create(service.localPath())
            : AutoMountpoint.createForRemote(service.name());
        madeMountpoint = true;
      }
      List<ReadOnlyFs.Entry> files = files(service);
      startup("files listed (partition tables read)");
      ReadOnlyFs fs = new ReadOnlyFs(files, service.header().ctime(), 0444, 0555,
          Map.of(STATUS_XATTR, () -> Json.write(StatusCommand.json(service.status()))
              .getBytes(java.nio.charset.StandardCharsets.UTF_8)));
      int n = threads != null ? threads : Math.max(2, Math.min(4, Runtime.getRuntime().availableProcessors()));
      boolean allowOther = options.remove("allow_other");
      MountOptions opts = new MountOptions(mountpoint, absoluteName(service), n,
          allowOther, fuseOptions(), backend());
      // The hook exists before the mount does: a SIGTERM that arrives while the mount comes up
      // waits for it and then unmounts, instead of leaving a dead mount behind.
      java.util.concurrent.CompletableFuture<FuseMount> mounted = new java.util.concurrent.CompletableFuture<>();
      Thread hook = new Thread(() -> {
        FuseMount m;
        try {
          m = mounted.get(30, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
          return; // the mount failed or never came up: nothing to unmount
        }
        detachLoops();
        m.close();
        // The JVM halts once the hooks are done, maybe before serve()'s finally runs.
        cleanUpAfterUnmount();
      }, "vmafs-unmount");
      Runtime.getRuntime().addShutdownHook(hook);
      FuseMount mount;
      try {
        mount = FuseMounts.mount(fs, opts);
        mounted.complete(mount);
        startup("FUSE mounted");
      } catch (RuntimeException e) {
        mounted.completeExceptionally(e);
        throw e;
      }
      service.watch(() -> {
        if (pageCache) {
          fs.files().forEach(e -> Posix.dropCachedPages(mountpoint.resolve(e.name())));
        }
      });
      if (!json) {
        printSummary(service, fs, mount, System.out);
      }
      if (loop) {
        // The server attaches them itself, before it reports ready: whoever started it (the
        // launcher script or the Java front-end) only waits for that line.
        LoopDevices.attachOrUnmount(mountpoint, json ? new PrintStream(java.io.OutputStream.nullOutputStream()) : System.out);
      }
      if (pidFile != null) {
        writtenPidFile = PidFile.write(pidFile);
      }
      if (json) {
        System.out.print(Json.write(summaryJson(service, fs, mount, (System.nanoTime() - started) / 1e9)));
        System.out.flush();
      }
      startup("ready");
      if (serverOptions.daemonChild) {
        Daemon.ready(logFd);
      }
      log.info("serving {} on {} with {} ({} threads){}", service.name(), mountpoint, mount.backend(), n,
          service.status().state() == ArchiveService.PassState.INDEXING ? ", indexing" : "");
      if (foreground && !json && service.status().state() == ArchiveService.PassState.INDEXING) {
        followPass(service);
      }
      mount.awaitUnmount();
      log.info("{} unmounted", mountpoint);
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // already shutting down: the hook is running
      }
      return ExitCodes.OK;
    } finally {
      service.close();
      cleanUpAfterUnmount();
    }
  }

  /**
   * {@code -v}: how long after the process started (the launcher's, whose pid the JVM keeps) a
   * step of the start was done, for the benchmark of "command to files readable".
   */
  private static void startup(String step) {
    if (log.isInfoEnabled()) {
      long ms = ProcessHandle.current().info().startInstant()
          .map(t -> java.time.Duration.between(t, java.time.Instant.now()).toMillis()).orElse(-1L);
      log.info("startup: {} after {} ms", step, ms);
    }
  }

  /** {@code -f}: the progress bar of the pass, drawn from a thread of its own until it ends. */
  private static void followPass(ArchiveService service) {
    Thread t = new Thread(() -> {
      vmafs.archive.PassProgress p = service.progress();
      try (ProgressBar bar = new ProgressBar("indexing", p.total())) {
        while (service.status().state() == ArchiveService.PassState.INDEXING) {
          bar.update(p.done());
          Thread.sleep(200);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      ArchiveService.Status s = service.status();
      if (s.state() == ArchiveService.PassState.COMPLETE) {
        log.info("index pass complete: {} in {} s", Units.bytes(s.bytesTotal()),
            String.format(java.util.Locale.ROOT, "%.1f", s.seconds()));
      }
    }, "vmafs-pass-progress");
    t.setDaemon(true);
    t.start();
  }

  /** The extended attribute of the mount's root that {@code vmafs status} reads (docs/json.md). */
  static final String STATUS_XATTR = "user.vmafs.status";

  /** Removes the pid file and a mount point vmafs made; from serve() or the SIGTERM hook. */
  private void cleanUpAfterUnmount() {
    PidFile p = writtenPidFile;
    if (p != null) {
      p.remove();
    }
    if (madeMountpoint) {
      AutoMountpoint.remove(mountpoint);
    }
  }

  /** The archive's absolute path, or its URL. */
  private static String absoluteName(ArchiveService a) {
    return a.localPath() != null ? a.localPath().toAbsolutePath().toString() : a.name();
  }

  /** What {@code --json} prints once the files are readable (docs/json.md). */
  private Map<String, Object> summaryJson(ArchiveService a, ReadOnlyFs fs, FuseMount mount, double seconds) {
    Map<String, Object> o = Json.object();
    o.put("archive", absoluteName(a));
    o.put("mountpoint", mountpoint.toAbsolutePath().toString());
    o.put("mountpoint_created", madeMountpoint);
    o.put("backend", mount.backend() == MountOptions.Backend.FUSE3 ? "libfuse3" : "libfuse2");
    o.put("holes_visible", mount.supportsHoles());
    o.put("pid", ProcessHandle.current().pid());
    Path indexFile = a.archive().map(Archive::indexFile).orElse(null);
    o.put("index_file", indexFile == null ? null : indexFile.toString());
    o.put("index_state", a.status().state().name().toLowerCase(java.util.Locale.ROOT));
    List<Object> files = Json.array();
    for (ReadOnlyFs.Entry e : fs.files()) {
      Map<String, Object> f = Json.object();
      f.put("name", e.name());
      f.put("path", mountpoint.toAbsolutePath().resolve(e.name()).toString());
      f.put("size", e.content().size());
      f.put("allocated_bytes", e.content().allocatedBytes());
      files.add(f);
    }
    o.put("files", files);
    List<Object> loops = Json.array();
    for (LoopDevices.Loop l : loop ? LoopDevices.under(mountpoint) : List.<LoopDevices.Loop>of()) {
      Map<String, Object> m = Json.object();
      m.put("device", l.device());
      m.put("image", l.backingFile().toString());
      List<Object> parts = Json.array();
      l.partitions().forEach(p -> parts.add("/dev/" + p));
      m.put("partitions", parts);
      loops.add(m);
    }
    o.put("loop_devices", loops);
    o.put("seconds", Math.round(seconds * 1000) / 1000.0);
    return o;
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
   * thread while this one opens the archive: the decoder's native library (zstd), libfuse3 for the
   * mount, libc for detach(), which runs right after the parent is told the mount is ready and
   * keeps it waiting until then.
   */
  private void preload() {
    boolean fuse3 = backend() != MountOptions.Backend.FUSE2;
    Thread t = new Thread(() -> {
      try {
        // First: the archive's open reaches the decoder before the mount needs libfuse.
        vmafs.source.DecodePass.preload(archive);
        if (fuse3) {
          vmafs.fuse3.Fuse3Session.isUsable();
        }
        if (serverOptions.daemonChild) {
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
   * archive are checked like extract checks them (safe, and no two files of one name).
   */
  private static List<ReadOnlyFs.Entry> files(ArchiveService a) throws IOException {
    ExtractTarget.checkNames(a.header(), a.images().stream().map(ArchiveService.Image::device).toList());
    List<ReadOnlyFs.Entry> out = new ArrayList<>();
    for (ArchiveService.Image img : a.images()) {
      out.add(new ReadOnlyFs.Entry(img.device().imageFileName(), img.content()));
    }
    for (ConfigBlob c : a.header().configs()) {
      out.add(new ReadOnlyFs.Entry(c.name(), ImageContent.ofBytes(c.data())));
    }
    // Last, so that the disks and configs keep their inode numbers.
    Set<String> names = new HashSet<>();
    out.forEach(e -> names.add(e.name()));
    // While the pass runs, the backup GPT at each disk's end is not waited for (see PartitionTables).
    out.addAll(PartitionFiles.entries(a.images(), names,
        a.status().state() != ArchiveService.PassState.INDEXING));
    return out;
  }

  private void printSummary(ArchiveService a, ReadOnlyFs fs, FuseMount mount, PrintStream out) {
    StringBuilder sb = new StringBuilder();
    sb.append("mounted ").append(a.name()).append(" on ").append(mountpoint.toAbsolutePath()).append('\n');
    for (ReadOnlyFs.Entry e : fs.files()) {
      sb.append(String.format("  %-48s %10s  (%s data)%n",
          Printable.of(mountpoint.toAbsolutePath().resolve(e.name()).toString()),
          Units.bytes(e.content().size()), Units.bytes(e.content().allocatedBytes())));
    }
    if (a.status().state() == ArchiveService.PassState.INDEXING) {
      sb.append("indexing in the background: reads of what the pass has not reached wait for it;"
          + " 'vmafs status " + Printable.of(mountpoint.toAbsolutePath().toString()) + "' shows how far it is\n");
    }
    if (!mount.supportsHoles()) {
      sb.append("note: libfuse2 backend: holes are visible to du but not to SEEK_DATA/SEEK_HOLE\n");
    }
    out.print(sb);
    out.flush();
  }

  /**
   * Loop devices on this mount's images hold its files open: detached first on SIGTERM as {@code
   * vmafs umount} does, or they would outlive the server. Best effort: one that is in use stays,
   * with a warning.
   */
  private void detachLoops() {
    try {
      LoopDevices.detachUnder(mountpoint);
    } catch (RuntimeException e) {
      log.warn("leaving loop devices attached: {}", e.getMessage());
    }
  }
}
