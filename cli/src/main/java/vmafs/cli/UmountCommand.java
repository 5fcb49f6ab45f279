package vmafs.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import vmafs.fs.FuseException;
import vmafs.fs.FuseMounts;

@Command(
    name = "umount",
    aliases = "unmount",
    mixinStandardHelpOptions = true,
    description = {
      "Unmount a vmafs mount (the same as 'fusermount3 -u MOUNTPOINT'); the server exits.",
      "Loop devices backed by the mount's images (vmafs mount --loop, or losetup by hand) are",
      "detached first; if one of them or its partitions is still mounted or held (LVM), nothing",
      "is detached or unmounted and the error says what is in use."
    })
final class UmountCommand implements Callable<Integer> {
  @Mixin CommonOptions common;

  @Parameters(index = "0", paramLabel = "MOUNTPOINT")
  Path mountpoint;

  @Override
  public Integer call() {
    LoopDevices.detachUnder(mountpoint); // loop devices on the mount's images go first
    try {
      FuseMounts.unmount(mountpoint);
    } catch (FuseException e) {
      throw new CliException(ExitCodes.ENVIRONMENT, e.getMessage());
    }
    return ExitCodes.OK;
  }
}
