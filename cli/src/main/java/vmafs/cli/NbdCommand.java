package vmafs.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import vmafs.service.ArchiveService;
import vmafs.archive.IndexLocation;
import vmafs.nbd.Export;
import vmafs.nbd.ListenAddress;
import vmafs.nbd.NbdServer;
import vmafs.nbd.ServerLimits;
import vmafs.nbd.TlsMode;
import vmafs.nbd.tls.TlsCredentials;
import vmafs.vma.MalformedArchiveException;
import vmafs.vma.image.DeviceImage;

@Command(
    name = "nbd",
    mixinStandardHelpOptions = true,
    header = "Serve an archive's drives read-only over NBD, holes included.",
    description = {
      "One export per drive, named by its devname (drive-scsi0), holes reported through"
          + " base:allocation; qemu, qemu-img, nbdcopy and nbdinfo read them, here or from another"
          + " host. Returns once listening, leaving the server in the background (-f keeps it in the"
          + " foreground); SIGTERM (kill PID) stops it once the requests in flight are answered.",
      "",
      "ADDR is unix:PATH or HOST:PORT ([::1]:10809 for IPv6; port 0 picks one). Default: a Unix"
          + " socket under $XDG_RUNTIME_DIR/vmafs/ (root: /run/vmafs/). The addresses and each"
          + " export's URI are printed on start."
    },
    footer = {
      "  vmafs nbd vzdump-qemu-100-2026_11_22-12_00_00.vma.zst",
      "  vmafs nbd --listen unix:/tmp/vm.sock backup.vma.zst",
      "  nbdinfo --list 'nbd+unix:///?socket=/tmp/vm.sock'",
      "  qemu-img convert -O raw 'nbd+unix:///drive-scsi0?socket=/tmp/vm.sock' sda.raw",
      "  vmafs nbd --listen 0.0.0.0:10809 --tls-cert srv.pem --tls-key srv.key backup.vma.zst"
    })
final class NbdCommand implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(NbdCommand.class);
  /** How long SIGTERM waits for the requests in flight. */
  private static final Duration DRAIN = Duration.ofSeconds(10);

  @Mixin CommonOptions common;
  @Mixin ServerOptions serverOptions;

  @Mixin IndexOptions indexOptions;

  @Mixin RemoteArchiveOptions remote;

  @Parameters(index = "0", paramLabel = "ARCHIVE", description = "The archive: a file, s3://BUCKET/KEY or an http(s):// URL.")
  String archive;

  @Option(names = "--listen", paramLabel = "ADDR",
      description = "Where to listen (repeatable): unix:PATH or HOST:PORT. Default: unix:$XDG_RUNTIME_DIR/vmafs/ARCHIVE.sock.")
  List<String> listen = new ArrayList<>();

  @Option(names = {"-f", "--foreground"}, description = "Stay in the foreground; Ctrl-C stops the server.")
  boolean foreground;

  @Option(names = "--tls-cert", paramLabel = "PEM", description = "The server's certificate (chain), PEM.")
  Path tlsCert;

  @Option(names = "--tls-key", paramLabel = "PEM",
      description = "Its private key, PEM, unencrypted (PKCS#8, PKCS#1 or SEC1, as certtool and openssl write them).")
  Path tlsKey;

  @Option(names = "--tls-ca", paramLabel = "PEM",
      description = "Require client certificates signed by this CA (PEM).")
  Path tlsCa;

  @Option(names = "--tls", paramLabel = "require|on|off",
      description = "require (the default with --tls-cert): every client must use TLS; on: TLS for"
          + " clients that ask, plain text for the others; off (the default without): no TLS.")
  String tls;

  @Option(names = "--threads", paramLabel = "N", description = "Threads that read the images (default: 2-8 by CPU count).")
  Integer threads;

  @Option(names = "--max-connections", paramLabel = "N",
      description = "Connections served at once; more are closed at once (default: ${DEFAULT-VALUE}).",
      defaultValue = "1024")
  int maxConnections;

  @Option(names = "--wait",
      description = "Start serving only once the index pass is over (and refuse an incomplete"
          + " archive without --partial). By default the server listens as soon as the header is"
          + " read; reads of what the pass has not reached wait for it.")
  boolean waitForIndex;

  @Option(names = "--partial",
      description = "Serve an incomplete archive: missing clusters read as zeros (and are holes).")
  boolean partial;

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    Path archivePath = remote.check(archive);
    serverOptions.cacheBytes(); // fail early on a typo, before anything is spawned
    TlsMode mode = tlsMode();
    List<ListenAddress> addresses = addresses(archivePath); // checked before anything is spawned
    if (maxConnections < 1 || (threads != null && threads < 1)) {
      throw new CliException(ExitCodes.USAGE, "--max-connections and --threads take a positive number");
    }
    if (!foreground && !serverOptions.daemonChild) {
      return Daemon.spawn(spec, serverOptions.heapBoundMibFor(archive));
    }
    return serve(addresses, mode);
  }

  private TlsMode tlsMode() {
    if ((tlsCert == null) != (tlsKey == null)) {
      throw new CliException(ExitCodes.USAGE, "--tls-cert and --tls-key go together");
    }
    TlsMode mode = switch (tls == null ? (tlsCert != null ? "require" : "off") : tls) {
      case "require" -> TlsMode.REQUIRE;
      case "on" -> TlsMode.ON;
      case "off" -> TlsMode.OFF;
      default -> throw new CliException(ExitCodes.USAGE, "--tls takes require, on or off, not '" + tls + "'");
    };
    if (mode != TlsMode.OFF && tlsCert == null) {
      throw new CliException(ExitCodes.USAGE, "--tls=" + tls + " needs --tls-cert and --tls-key");
    }
    if (tlsCa != null && tlsCert == null) {
      throw new CliException(ExitCodes.USAGE, "--tls-ca needs --tls-cert and --tls-key");
    }
    return mode;
  }

  private List<ListenAddress> addresses(Path archivePath) {
    List<ListenAddress> out = new ArrayList<>();
    try {
      for (String s : listen) {
        out.add(ListenAddress.parse(s));
      }
      if (out.isEmpty()) {
        out.add(new ListenAddress.Unix(defaultSocket(RuntimeDir.create(), archivePath)));
      }
    } catch (IllegalArgumentException e) {
      throw new CliException(ExitCodes.USAGE, "--listen " + e.getMessage());
    }
    return out;
  }

  /**
   * {@code DIR/ARCHIVE-NAME.sock}; a name too long for a socket path keeps its start and gets a
   * hash of the archive's path instead of the rest.
   */
  static Path defaultSocket(Path dir, Path archivePath) {
    String name = archivePath.getFileName() + ".sock";
    int room = ListenAddress.Unix.MAX_PATH_BYTES - dir.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length - 1;
    if (name.getBytes(java.nio.charset.StandardCharsets.UTF_8).length <= room) {
      return dir.resolve(name);
    }
    String hash = Integer.toHexString(archivePath.toAbsolutePath().normalize().toString().hashCode());
    String stem = archivePath.getFileName().toString().replaceAll("[^A-Za-z0-9._-]", "_");
    int keep = room - hash.length() - ".sock".length() - 1;
    if (keep < 8) {
      throw new CliException(ExitCodes.USAGE, dir + " is too long a directory for a Unix socket: pass --listen unix:PATH");
    }
    return dir.resolve(stem.substring(0, Math.min(stem.length(), keep)) + "-" + hash + ".sock");
  }

  /** Serves in this process until SIGTERM. */
  private int serve(List<ListenAddress> addresses, TlsMode mode) throws IOException, InterruptedException {
    TlsCredentials credentials = tlsCert == null ? null : TlsCredentials.load(tlsCert, tlsKey, tlsCa);
    // Whatever can fail happens before the server reports ready (see MountCommand).
    int logFd = serverOptions.openLog("nbd", RemoteArchiveOptions.forNames(archive));
    vmafs.vma.io.StoredBytes stored = remote.open(archive);
    ArchiveService a = ArchiveArgs.serve(stored, indexOptions, serverOptions.servingCacheBytes(stored), partial, waitForIndex,
        "refusing to serve an incomplete archive");
    try {
      ServerLimits limits = ServerLimits.defaults().withMaxConnections(maxConnections);
      if (threads != null) {
        limits = limits.withWorkers(threads);
      }
      List<Export> exports = exports(a);
      NbdServer server = new NbdServer(exports, limits, mode, credentials);
      Thread hook = new Thread(() -> server.shutdown(DRAIN), "vmafs-nbd-stop");
      Runtime.getRuntime().addShutdownHook(hook);
      List<ListenAddress> bound;
      try {
        bound = server.listen(addresses);
      } catch (IOException e) {
        Runtime.getRuntime().removeShutdownHook(hook);
        throw new CliException(ExitCodes.ENVIRONMENT, e.getMessage(), e);
      }
      a.watch(() -> {});
      ServerRegistry registry = register(a, bound, exports);
      printSummary(a, bound, server, mode, credentials, System.out);
      warnAboutPlainTcp(bound, mode);
      if (serverOptions.daemonChild) {
        Daemon.ready(logFd);
      }
      server.awaitTermination();
      if (registry != null) {
        registry.close();
      }
      return ExitCodes.OK;
    } finally {
      a.close();
    }
  }

  /**
   * Makes the server visible to {@code vmafs status} ({@link ServerRegistry}); a server that cannot
   * register still serves, with a warning.
   */
  private static ServerRegistry register(ArchiveService a, List<ListenAddress> bound, List<Export> served) {
    List<Object> listening = Json.array();
    bound.forEach(l -> listening.add(l.display()));
    List<Object> exports = Json.array();
    served.forEach(e -> exports.add(e.name()));
    ServerRegistry r;
    try {
      r = ServerRegistry.register(() -> {
        Map<String, Object> o = StatusCommand.json(a.status());
        o.put("listening", listening);
        o.put("exports", exports);
        return Json.write(o).getBytes(java.nio.charset.StandardCharsets.UTF_8);
      });
    } catch (IOException | RuntimeException e) {
      log.warn("'vmafs status' will not list this server: {}", e.getMessage());
      return null;
    }
    // SIGTERM: the JVM may halt before serve() returns, and the socket must not stay behind.
    Runtime.getRuntime().addShutdownHook(new Thread(r::close, "vmafs-status-socket-stop"));
    log.info("status socket {}", r.socket());
    return r;
  }

  /** One export per drive; the vmstate stream and the configs are not disks. */
  private static List<Export> exports(ArchiveService a) throws MalformedArchiveException {
    List<Export> out = new ArrayList<>();
    java.util.Set<String> names = new java.util.HashSet<>();
    String when = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss", Locale.ROOT)
        .format(Instant.ofEpochSecond(a.header().ctime()).atZone(ZoneId.systemDefault()));
    for (ArchiveService.Image img : a.images()) {
      if (img.device().isVmstate()) {
        continue;
      }
      ExtractTarget.checkDeviceName(img.device());
      if (!names.add(img.device().name())) {
        throw new MalformedArchiveException("dev_info[" + img.device().id() + "].devname_ptr", 0,
            "device name '" + img.device().name() + "' appears twice");
      }
      String description = img.device().name() + " of " + fileName(a.name()) + " (backup of " + when
          + (a.status().state() == ArchiveService.PassState.INDEXING ? ")"
              : ", " + Units.bytes(img.content().allocatedBytes()) + " of data)");
      out.add(new Export(img.device().name(), description, img.content()));
    }
    if (out.isEmpty()) {
      throw new CliException(ExitCodes.USAGE, a.name() + " holds no drive to serve");
    }
    return out;
  }

  /** The last part of a path or URL. */
  private static String fileName(String name) {
    return name.substring(name.lastIndexOf('/') + 1);
  }

  private static void printSummary(ArchiveService a, List<ListenAddress> bound, NbdServer server, TlsMode mode,
      TlsCredentials credentials, PrintStream out) {
    long pid = ProcessHandle.current().pid();
    StringBuilder sb = new StringBuilder();
    sb.append("serving ").append(a.name()).append(" over NBD, read-only (pid ").append(pid)
        .append("; stop it with: kill ").append(pid).append(")\n");
    for (ListenAddress l : bound) {
      sb.append("  listening on ").append(l.display()).append('\n');
    }
    if (mode != TlsMode.OFF) {
      sb.append("  TLS ").append(mode == TlsMode.REQUIRE ? "required" : "offered, not required")
          .append(" (").append(credentials.subject()).append(')')
          .append(credentials.verifiesClients() ? "; client certificates required" : "").append('\n');
    }
    if (a.status().state() == ArchiveService.PassState.INDEXING) {
      sb.append("  indexing in the background: reads of what the pass has not reached wait for it\n");
    }
    for (ArchiveService.Image img : a.images()) {
      if (img.device().isVmstate()) {
        continue;
      }
      String name = img.device().name();
      String head = String.format("  %-16s %10s  (%s data)  ", name, Units.bytes(img.content().size()),
          Units.bytes(img.content().allocatedBytes()));
      for (int i = 0; i < bound.size(); i++) {
        sb.append(i == 0 ? head : " ".repeat(head.length()))
            .append(reachable(bound.get(i)).uri(name, mode == TlsMode.REQUIRE)).append('\n');
      }
    }
    out.print(sb);
    out.flush();
  }

  /** A wildcard address (0.0.0.0, ::) as clients elsewhere reach it: by this host's name. */
  private static ListenAddress reachable(ListenAddress a) {
    if (a instanceof ListenAddress.Tcp t && (t.host().equals("0.0.0.0") || t.host().equals("::"))) {
      try {
        return new ListenAddress.Tcp(java.net.InetAddress.getLocalHost().getHostName(), t.port());
      } catch (java.net.UnknownHostException e) {
        return a;
      }
    }
    return a;
  }

  /** Plain NBD over the network lets anyone who reaches the port read the backup. */
  private static void warnAboutPlainTcp(List<ListenAddress> bound, TlsMode mode) {
    if (mode == TlsMode.REQUIRE) {
      return;
    }
    for (ListenAddress l : bound) {
      if (l instanceof ListenAddress.Tcp t && !t.isLoopback()) {
        log.warn("{} is reachable from other hosts and {}: anyone who can connect can read the backup"
            + " (use --tls-cert/--tls-key, or a loopback or Unix address)", t.display(),
            mode == TlsMode.ON ? "TLS is optional" : "has no TLS");
      }
    }
  }
}
