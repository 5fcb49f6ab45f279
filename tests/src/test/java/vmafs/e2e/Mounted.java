package vmafs.e2e;

import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@code vmafs mount} made for a test, unmounted (and checked gone) on close even when the test
 * failed. Falls back to a lazy fusermount3 so that a broken test never leaves a mount behind.
 */
public final class Mounted implements AutoCloseable {
  private final Path mountpoint;
  private String output = "";
  private String errors = "";

  private Mounted(Path mountpoint) {
    this.mountpoint = mountpoint;
  }

  /** Mounts in the background (the normal user path) and returns once the command returned 0. */
  public static Mounted mount(Path archive, Path mountpoint, String... options) throws IOException {
    return mount(archive, mountpoint, java.util.Map.of(), options);
  }

  /** As {@link #mount(Path, Path, String...)} with extra environment (e.g. XDG_CACHE_HOME). */
  public static Mounted mount(Path archive, Path mountpoint, java.util.Map<String, String> env,
      String... options) throws IOException {
    try {
      Files.createDirectories(mountpoint);
    } catch (java.nio.file.FileAlreadyExistsException e) {
      // A dead FUSE mount once the kernel's attribute cache has expired (a slow machine): stat
      // fails, mkdir says it exists. vmafs mount itself cleans it up.
    }
    List<String> args = new ArrayList<>(List.of("mount"));
    args.addAll(List.of(options));
    args.add(archive.toString());
    args.add(mountpoint.toString());
    Mounted m = new Mounted(mountpoint);
    try {
      Run.Result r = Run.exec(Run.vmafsCommand(args.toArray(String[]::new)), null, env).ok();
      m.output = r.out();
      m.errors = r.err();
    } catch (AssertionError e) {
      m.close();
      throw e;
    }
    return m;
  }

  /** What {@code vmafs mount} printed on stdout. */
  public String output() {
    return output;
  }

  /** What {@code vmafs mount} printed on stderr (progress, warnings, -v messages). */
  public String errors() {
    return errors;
  }

  public Path path() {
    return mountpoint;
  }

  public Path file(String name) {
    return mountpoint.resolve(name);
  }

  public static boolean isMounted(Path mountpoint) {
    try {
      String abs = mountpoint.toRealPath().toString();
      return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
          .map(l -> l.split(" ")[4]).anyMatch(abs::equals);
    } catch (IOException e) {
      // toRealPath fails on a dead FUSE mount (ENOTCONN): that is still a mount
      return Run.cmd("mountpoint", "-q", mountpoint.toString()).code() == 0;
    }
  }

  /** Unmounts whatever is on a mount point, for tests that mount without {@link #mount}. */
  public static final class Cleanup implements AutoCloseable {
    private final Path mountpoint;

    public Cleanup(Path mountpoint) {
      this.mountpoint = mountpoint;
    }

    @Override
    public void close() {
      new Mounted(mountpoint).close();
    }
  }

  @Override
  public void close() {
    if (isMounted(mountpoint)) {
      Run.Result r = Run.vmafs("umount", mountpoint.toString());
      if (r.code() != 0) {
        Run.cmd("fusermount3", "-u", "-z", mountpoint.toString());
      }
    }
    // The server exits once unmounted; the mount must be gone.
    for (int i = 0; i < 50 && isMounted(mountpoint); i++) {
      sleep(100);
    }
    assertFalse(isMounted(mountpoint), "still mounted: " + mountpoint);
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
