package vmafs.cli;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import vmafs.cli.log.Printable;
import vmafs.fs.FuseMounts;
import vmafs.fuse.MountTable;
import vmafs.nbd.ListenAddress;
import vmafs.service.ArchiveService;

@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    header = "Show how far the index pass of each vmafs mount and NBD server is.",
    description = {
      "For each mount and each 'vmafs nbd' server: the archive, the index pass's state (indexing,"
          + " complete, failed and why), bytes and percent done, throughput and time left, and"
          + " reads waiting for the pass; for a server also its addresses and exports.",
      "",
      "Without an argument, every vmafs mount this process can see (from /proc/self/mountinfo)"
          + " and every NBD server of this user (root: of every user). A mount answers through"
          + " itself (the read-only extended attribute user.vmafs.status of its root); an NBD"
          + " server through its status socket in the runtime directory ($XDG_RUNTIME_DIR/vmafs/"
          + "servers, /run/vmafs/servers for root), so no file is read or written."
    },
    footer = {
      "  vmafs status",
      "  vmafs status /mnt/vm",
      "  vmafs status unix:/run/vmafs/vzdump-qemu-100-2026_11_22-12_00_00.vma.zst.sock",
      "  vmafs status --json 127.0.0.1:10809"
    })
final class StatusCommand implements Callable<Integer> {
  /** The most a status may be: a getxattr value is at most 64 KiB. */
  private static final int MAX_STATUS = 64 << 10;

  @Mixin CommonOptions common;

  @Parameters(index = "0", arity = "0..1", paramLabel = "MOUNTPOINT|ADDR",
      description = "A vmafs mount, or an address an NBD server listens on (unix:PATH, the socket's"
          + " PATH, or HOST:PORT) (default: all of them).")
  String target;

  @Option(names = "--json", description = "Print the status as JSON (docs/json.md).")
  boolean json;

  @Override
  public Integer call() {
    List<Path> targets = new ArrayList<>();
    List<Map<String, Object>> servers = new ArrayList<>();
    if (target == null) {
      FuseMounts.vmafsMounts().forEach(m -> targets.add(m.mountpoint()));
      for (ServerRegistry.Found f : ServerRegistry.list()) {
        servers.add(server(f));
      }
    } else if (isVmafsMount(target)) {
      targets.add(FuseMounts.canonicalMountpoint(Path.of(target)));
    } else {
      Map<String, Object> s = serverAt(target);
      if (s == null) {
        throw new CliException(ExitCodes.USAGE, target + ": not a vmafs mount, nor an address a vmafs"
            + " nbd server of this user listens on");
      }
      servers.add(s);
    }
    List<Object> mounts = Json.array();
    int code = ExitCodes.OK;
    StringBuilder text = new StringBuilder();
    for (Path mp : targets) {
      Map<String, Object> m;
      try {
        m = read(mp);
      } catch (IOException e) {
        m = Json.object();
        m.put("mountpoint", mp.toString());
        m.put("error", "no status: " + e.getMessage());
        if (target != null) {
          code = ExitCodes.ENVIRONMENT;
        }
      }
      mounts.add(m);
      text.append(Printable.of(String.valueOf(m.get("mountpoint")))).append('\n');
      text(m, text);
    }
    List<Object> nbd = Json.array();
    for (Map<String, Object> s : servers) {
      nbd.add(s);
      text.append("nbd server ").append(s.get("pid") instanceof Number p ? "(pid " + p + ")"
          : Printable.of(String.valueOf(s.get("status_socket")))).append('\n');
      if (target != null && s.get("state") == null) {
        code = ExitCodes.ENVIRONMENT;
      }
      if (s.get("listening") instanceof List<?> l) {
        for (Object a : l) {
          text.append("  listening ").append(Printable.of(String.valueOf(a))).append('\n');
        }
      }
      text(s, text);
    }
    if (json) {
      Map<String, Object> o = Json.object();
      o.put("mounts", mounts);
      o.put("nbd_servers", nbd);
      System.out.print(Json.write(o));
    } else if (targets.isEmpty() && servers.isEmpty()) {
      System.out.println("no vmafs mounts or NBD servers");
    } else {
      System.out.print(text);
    }
    System.out.flush();
    return code;
  }

  /** Whether {@code arg} is where a vmafs mount sits (a dead one too: its status says why). */
  private static boolean isVmafsMount(String arg) {
    try {
      return MountTable.at(FuseMounts.canonicalMountpoint(Path.of(arg)))
          .filter(m -> m.fsType().equals("fuse.vmafs")).isPresent();
    } catch (RuntimeException e) {
      return false; // no path of this machine (an address), or its parent is not accessible
    }
  }

  /** The registered server that listens on {@code arg}, or null. */
  private static Map<String, Object> serverAt(String arg) {
    String unix = arg.startsWith("unix:") ? arg.substring("unix:".length()) : arg.startsWith("/") || Files.exists(Path.of(arg)) ? arg : null;
    String wanted;
    if (unix != null) {
      wanted = "unix:" + normalized(Path.of(unix));
    } else {
      try {
        wanted = ListenAddress.parse(arg).display();
      } catch (IllegalArgumentException e) {
        throw new CliException(ExitCodes.USAGE, arg + ": not a vmafs mount, nor an address (" + e.getMessage() + ")");
      }
    }
    for (ServerRegistry.Found f : ServerRegistry.list()) {
      Map<String, Object> s = server(f);
      if (s.get("listening") instanceof List<?> l) {
        for (Object a : l) {
          String addr = String.valueOf(a);
          String norm = addr.startsWith("unix:") ? "unix:" + normalized(Path.of(addr.substring(5))) : addr;
          if (norm.equals(wanted)) {
            return s;
          }
        }
      }
    }
    return null;
  }

  private static String normalized(Path p) {
    try {
      return p.toRealPath().toString();
    } catch (IOException e) {
      return p.toAbsolutePath().normalize().toString();
    }
  }

  /** One server's entry: its answer's known fields, or why there is none. */
  private static Map<String, Object> server(ServerRegistry.Found f) {
    Map<String, Object> m = Json.object();
    m.put("status_socket", f.socket().toString());
    m.put("uid", f.uid());
    Map<String, Object> n = null;
    String error = f.error();
    if (error == null) {
      try {
        n = FlatJson.parse(f.status());
      } catch (IOException e) {
        error = "no status: " + e.getMessage();
      }
    }
    if (n == null) {
      m.put("error", error);
      return m;
    }
    for (String k : SERVER_FIELDS) {
      m.put(k, strings(n.get(k)));
    }
    for (String k : FIELDS) {
      m.put(k, scalar(n.get(k)));
    }
    return m;
  }

  private static List<Object> strings(Object v) {
    List<Object> out = Json.array();
    if (v instanceof List<?> l) {
      l.forEach(x -> out.add(String.valueOf(x)));
    }
    return out;
  }

  private static Object scalar(Object v) {
    return v instanceof List<?> ? null : v;
  }

  private static final List<String> SERVER_FIELDS = List.of("listening", "exports");

  /**
   * The status a mount's server publishes. Whoever runs a FUSE server can name it vmafs, so the
   * value is untrusted input: bounded, parsed as one JSON object, and only its known scalar fields
   * are kept (strings are printed escaped).
   */
  static Map<String, Object> read(Path mp) throws IOException {
    UserDefinedFileAttributeView view = Files.getFileAttributeView(mp, UserDefinedFileAttributeView.class);
    if (view == null) {
      throw new IOException("extended attributes are not supported here");
    }
    String name = MountCommand.STATUS_XATTR.substring("user.".length());
    ByteBuffer buf = ByteBuffer.allocate(MAX_STATUS);
    view.read(name, buf);
    buf.flip();
    byte[] b = new byte[buf.remaining()];
    buf.get(b);
    Map<String, Object> n = FlatJson.parse(new String(b, java.nio.charset.StandardCharsets.UTF_8));
    Map<String, Object> m = Json.object();
    m.put("mountpoint", mp.toString());
    for (String f : FIELDS) {
      m.put(f, scalar(n.get(f)));
    }
    return m;
  }

  private static final List<String> FIELDS = List.of("archive", "compression", "state", "error",
      "bytes_done", "bytes_total", "percent", "seconds", "bytes_per_second", "eta_seconds",
      "waiting_reads", "waits", "late_duplicates", "index_file", "pid", "max_heap_bytes");

  /** The status of one service as the mount publishes it (docs/json.md). */
  static Map<String, Object> json(ArchiveService.Status s) {
    Map<String, Object> o = Json.object();
    o.put("archive", s.archive());
    o.put("compression", s.compression());
    o.put("state", s.state().name().toLowerCase(Locale.ROOT));
    o.put("error", s.error());
    o.put("bytes_done", s.bytesDone());
    o.put("bytes_total", s.bytesTotal());
    o.put("percent", Math.round(s.percent() * 10) / 10.0);
    o.put("seconds", Math.round(s.seconds() * 1000) / 1000.0);
    o.put("bytes_per_second", Math.round(s.bytesPerSecond()));
    o.put("eta_seconds", s.etaSeconds() < 0 ? null : (Object) (Math.round(s.etaSeconds() * 10) / 10.0));
    o.put("waiting_reads", s.waitingReads());
    o.put("waits", s.waits());
    o.put("late_duplicates", s.lateDuplicates());
    o.put("index_file", s.indexFile() == null ? null : s.indexFile().toString());
    o.put("pid", ProcessHandle.current().pid());
    o.put("max_heap_bytes", ServerOptions.maxHeapBytes());
    return o;
  }

  private static void text(Map<String, Object> m, StringBuilder sb) {
    if (m.get("state") == null) {
      sb.append("  ").append(Printable.of(String.valueOf(m.get("error")))).append('\n');
      return;
    }
    sb.append("  archive  ").append(Printable.of(String.valueOf(m.get("archive")))).append('\n');
    sb.append("  index    ").append(Printable.of(String.valueOf(m.get("state"))));
    if (m.get("bytes_total") instanceof Number total && m.get("bytes_done") instanceof Number done) {
      sb.append(String.format(Locale.ROOT, "  %s / %s (%s%%)", Units.bytes(done.longValue()),
          Units.bytes(total.longValue()), m.get("percent")));
    }
    if ("indexing".equals(m.get("state"))) {
      if (m.get("bytes_per_second") instanceof Number r && r.longValue() > 0) {
        sb.append("  ").append(Units.bytes(r.longValue())).append("/s");
      }
      if (m.get("eta_seconds") instanceof Number eta) {
        sb.append("  ETA ").append(Units.duration(eta.longValue()));
      }
    }
    sb.append('\n');
    if (m.get("error") != null) {
      sb.append("  error    ").append(Printable.of(String.valueOf(m.get("error")))).append('\n');
    }
    if (m.get("waiting_reads") instanceof Number w && w.intValue() > 0) {
      sb.append("  reads waiting for the pass: ").append(w).append('\n');
    }
    if (m.get("late_duplicates") instanceof Number d && d.longValue() > 0) {
      sb.append("  clusters listed again after they were read: ").append(d).append('\n');
    }
  }
}
