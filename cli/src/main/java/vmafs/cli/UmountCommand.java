package vmafs.cli;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import vmafs.fs.FuseException;
import vmafs.fs.FuseMounts;
import vmafs.fuse.MountTable;

@Command(
    name = "umount",
    aliases = "unmount",
    mixinStandardHelpOptions = true,
    header = "Unmount vmafs mounts; their servers exit.",
    description = {
      "Each MOUNTPOINT is unmounted as by 'fusermount3 -u'. Loop devices backed by a mount's images"
          + " (vmafs mount --loop, or losetup by hand) are detached first; if one of them or its"
          + " partitions is still mounted or held (LVM), that mount is left as it is and the error"
          + " says what is in use. A mount point that vmafs made (vmafs mount without MOUNTPOINT) is"
          + " removed once unmounted.",
      "",
      "The others are still unmounted when one fails; the exit code is then that of the first"
          + " failure."
    },
    footer = {
      "  vmafs umount /mnt/vm",
      "  vmafs umount /mnt/vm100 /mnt/vm101",
      "  vmafs umount --all --json"
    })
final class UmountCommand implements Callable<Integer> {
  @Mixin CommonOptions common;

  @Parameters(index = "0", arity = "0..*", paramLabel = "MOUNTPOINT", description = "A vmafs mount; several may be given.")
  List<Path> mountpoints = new ArrayList<>();

  @Option(names = {"-a", "--all"}, description = "Unmount every vmafs mount this process can see.")
  boolean all;

  @Option(names = "--json", description = "Print what was unmounted as JSON (docs/json.md).")
  boolean json;

  @Override
  public Integer call() {
    if (all == !mountpoints.isEmpty()) {
      throw new CliException(ExitCodes.USAGE, all ? "give either --all or mount points, not both"
          : "give a MOUNTPOINT, or --all");
    }
    List<Path> targets = all ? FuseMounts.vmafsMounts().stream().map(MountTable.Mount::mountpoint).toList()
        : mountpoints;
    List<Object> done = Json.array();
    List<Object> failed = Json.array();
    CliException first = null;
    for (Path mp : targets) {
      try {
        done.add(unmount(mp));
      } catch (CliException e) {
        first = first == null ? e : first;
        Map<String, Object> f = Json.object();
        f.put("mountpoint", mp.toString());
        f.put("error", e.getMessage());
        f.put("exit_code", e.exitCode());
        failed.add(f);
        if (!json) {
          System.err.println("vmafs: error: " + e.getMessage());
        }
      }
    }
    if (json) {
      Map<String, Object> o = Json.object();
      o.put("unmounted", done);
      o.put("failed", failed);
      System.out.print(Json.write(o));
      System.out.flush();
    }
    return first == null ? ExitCodes.OK : first.exitCode();
  }

  private Map<String, Object> unmount(Path mountpoint) {
    // The archive it serves, read before the mount is gone: it tells whether vmafs made the mount point.
    Path canonical = FuseMounts.canonicalMountpoint(mountpoint);
    String source = MountTable.at(canonical).map(MountTable.Mount::source).orElse(null);
    List<LoopDevices.Loop> loops = LoopDevices.detachUnder(mountpoint); // loop devices on the mount's images go first
    try {
      FuseMounts.unmount(mountpoint);
    } catch (FuseException e) {
      throw new CliException(ExitCodes.ENVIRONMENT, e.getMessage());
    }
    // The server removes it too once it sees the unmount; whichever comes first.
    boolean removed = source != null && AutoMountpoint.isAutomatic(canonical, Path.of(source))
        && (AutoMountpoint.remove(canonical) || !Files.exists(canonical, LinkOption.NOFOLLOW_LINKS));
    Map<String, Object> m = Json.object();
    m.put("mountpoint", canonical.toString());
    m.put("archive", source);
    List<Object> devs = Json.array();
    loops.forEach(l -> devs.add(l.device()));
    m.put("loop_devices_detached", devs);
    m.put("mountpoint_removed", removed);
    return m;
  }
}
