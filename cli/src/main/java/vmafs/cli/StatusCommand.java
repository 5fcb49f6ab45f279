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
import vmafs.service.ArchiveService;

@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    header = "Show how far each vmafs mount's index pass is.",
    description = {
      "For each mount: the archive, the index pass's state (indexing, complete, failed and why),"
          + " bytes and percent done, throughput and time left, and reads waiting for the pass."
          + " Without MOUNTPOINT, every vmafs mount this process can see (from"
          + " /proc/self/mountinfo). The server answers through the mount itself (the read-only"
          + " extended attribute user.vmafs.status of its root), so no file is read or written."
    },
    footer = {
      "  vmafs status",
      "  vmafs status /mnt/vm",
      "  vmafs status --json /mnt/vm"
    })
final class StatusCommand implements Callable<Integer> {
  /** The most a status may be: a getxattr value is at most 64 KiB. */
  private static final int MAX_STATUS = 64 << 10;

  @Mixin CommonOptions common;

  @Parameters(index = "0", arity = "0..1", paramLabel = "MOUNTPOINT", description = "A vmafs mount (default: all of them).")
  Path mountpoint;

  @Option(names = "--json", description = "Print the status as JSON (docs/json.md).")
  boolean json;

  @Override
  public Integer call() {
    List<Path> targets = new ArrayList<>();
    if (mountpoint != null) {
      Path canonical = FuseMounts.canonicalMountpoint(mountpoint);
      if (MountTable.at(canonical).filter(m -> m.fsType().equals("fuse.vmafs")).isEmpty()) {
        throw new CliException(ExitCodes.USAGE, mountpoint + ": not a vmafs mount");
      }
      targets.add(canonical);
    } else {
      FuseMounts.vmafsMounts().forEach(m -> targets.add(m.mountpoint()));
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
        if (mountpoint != null) {
          code = ExitCodes.ENVIRONMENT;
        }
      }
      mounts.add(m);
      text(m, text);
    }
    if (json) {
      Map<String, Object> o = Json.object();
      o.put("mounts", mounts);
      System.out.print(Json.write(o));
    } else if (targets.isEmpty()) {
      System.out.println("no vmafs mounts");
    } else {
      System.out.print(text);
    }
    System.out.flush();
    return code;
  }

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
      m.put(f, n.get(f));
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
    sb.append(Printable.of(String.valueOf(m.get("mountpoint")))).append('\n');
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
