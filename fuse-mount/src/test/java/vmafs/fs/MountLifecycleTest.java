package vmafs.fs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import vmafs.fs.MountOptions.Backend;

/** Mountpoint checks, stale mounts and unmounting, independent of the backend. */
class MountLifecycleTest {
  @TempDir Path tmp;
  Path mnt;

  @BeforeEach
  void mountpoint() throws IOException {
    FuseTestSupport.assumeFuse();
    mnt = Files.createDirectory(tmp.resolve("mnt"));
  }

  @AfterEach
  void cleanUp() {
    FuseTestSupport.forceUnmount(mnt);
  }

  private MountOptions options(Path mountpoint) {
    return new MountOptions(mountpoint, "test", 1, false, List.of(), Backend.AUTO);
  }

  @Test
  void aMissingMountpointIsReported() {
    FuseException e = assertThrows(FuseException.class,
        () -> FuseMounts.mount(MountTestBase.filesystem(), options(tmp.resolve("absent"))));
    assertTrue(e.getMessage().endsWith("absent does not exist"), e.getMessage());
  }

  @Test
  void aFileIsNoMountpoint() throws IOException {
    Path file = Files.createFile(tmp.resolve("file"));
    FuseException e = assertThrows(FuseException.class,
        () -> FuseMounts.mount(MountTestBase.filesystem(), options(file)));
    assertTrue(e.getMessage().endsWith("file is not a directory"), e.getMessage());
  }

  @Test
  void aLiveMountIsNotMountedOver() {
    try (FuseMount first = FuseMounts.mount(MountTestBase.filesystem(), options(mnt))) {
      assertEquals(Backend.FUSE3, first.backend(), "AUTO prefers libfuse3 where it is installed");
      FuseException e = assertThrows(FuseException.class,
          () -> FuseMounts.mount(MountTestBase.filesystem(), options(mnt)));
      assertTrue(e.getMessage().contains("already has a FUSE mount"), e.getMessage());
    }
  }

  @Test
  void unmountRefusesWhatIsNotAVmafsMount() {
    FuseException notMounted = assertThrows(FuseException.class, () -> FuseMounts.unmount(mnt));
    assertTrue(notMounted.getMessage().endsWith("is not a mount point"), notMounted.getMessage());
    FuseException foreign = assertThrows(FuseException.class,
        () -> FuseMounts.unmount(Path.of("/proc")));
    assertTrue(foreign.getMessage().contains("proc mount, not a vmafs one"), foreign.getMessage());
  }

  /** A server killed with SIGKILL leaves a mount that answers ENOTCONN; the next mount clears it. */
  @Test
  void aDeadServersMountIsReplaced() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        MountChild.class.getName(), mnt.toString())
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    try {
      BufferedReader out = new BufferedReader(
          new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
      assertEquals(MountChild.LIVE, out.readLine());
    } finally {
      child.destroyForcibly(); // SIGKILL: no shutdown hook runs
      assertTrue(child.waitFor(30, TimeUnit.SECONDS));
    }
    assertEquals(1, FuseTestSupport.mountsAt(tmp.resolve("mnt")).size());
    IOException dead = assertThrows(IOException.class,
        () -> Files.getFileStore(mnt).getTotalSpace());
    assertTrue(dead.getMessage().contains("Transport endpoint is not connected"), dead.toString());

    try (FuseMount mount = FuseMounts.mount(MountTestBase.filesystem(), options(mnt))) {
      assertTrue(mount.supportsHoles());
      assertArrayEquals(MountTestBase.CONFIG, Files.readAllBytes(mnt.resolve("qemu-server.conf")));
    }
    assertTrue(FuseTestSupport.mountsAt(mnt).isEmpty());
  }
}
