package vmafs.fs;

import java.nio.file.Path;
import java.util.List;

/** A separate server process for {@link MountLifecycleTest}: mounts, says so, and serves. */
public final class MountChild {
  static final String LIVE = "LIVE";

  private MountChild() {}

  public static void main(String[] args) throws InterruptedException {
    FuseMount mount = FuseMounts.mount(MountTestBase.filesystem(), new MountOptions(
        Path.of(args[0]), "child", 1, false, List.of(), MountOptions.Backend.AUTO));
    System.out.println(LIVE);
    System.out.flush();
    mount.awaitUnmount();
  }
}
