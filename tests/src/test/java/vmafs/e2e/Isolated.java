package vmafs.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * vmafs processes with a cache and runtime directory of their own (XDG_CACHE_HOME,
 * XDG_RUNTIME_DIR under {@code dir}), so that tests running at the same time on the machine never
 * share an index, a spill or a log.
 */
final class Isolated {
  private final Path cache;
  private final Map<String, String> env;

  Isolated(Path dir) throws IOException {
    this(dir, Map.of());
  }

  /** The same with {@code extra} in the environment too (e.g. a test S3 server's credentials). */
  Isolated(Path dir, Map<String, String> extra) throws IOException {
    this.cache = Files.createDirectories(dir.resolve("xdg-cache"));
    Path runtime = Files.createDirectories(dir.resolve("xdg-runtime"));
    Files.setPosixFilePermissions(runtime, PosixFilePermissions.fromString("rwx------"));
    Map<String, String> e = new java.util.HashMap<>(extra);
    e.put("XDG_CACHE_HOME", cache.toString());
    e.put("XDG_RUNTIME_DIR", runtime.toString());
    this.env = Map.copyOf(e);
  }

  Path cacheDir() {
    return cache;
  }

  /** The environment the vmafs processes get (besides this JVM's own). */
  Map<String, String> env() {
    return env;
  }

  Run.Result vmafs(String... args) {
    return Run.exec(Run.vmafsCommand(args), null, env);
  }

  /** A process running {@code vmafs ARGS} (e.g. {@code mount -f}), output to {@code log}. */
  Process start(Path log, String... args) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(Run.vmafsCommand(args)).redirectErrorStream(true)
        .redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    pb.environment().putAll(env);
    return pb.start();
  }

  /**
   * {@code vmafs mount} in the background; the returned cleanup unmounts (and checks the mount is
   * gone) even if the test failed.
   */
  Mounted.Cleanup mount(Path archive, Path mountpoint, String... options) throws IOException {
    return mount(archive.toString(), mountpoint, options);
  }

  /** As {@link #mount(Path, Path, String...)} for any ARCHIVE argument (a URL). */
  Mounted.Cleanup mount(String archive, Path mountpoint, String... options) throws IOException {
    try {
      Files.createDirectories(mountpoint);
    } catch (java.nio.file.FileAlreadyExistsException e) {
      // A dead FUSE mount can fail the stat behind createDirectories: it is there; vmafs detaches it.
    }
    List<String> args = new ArrayList<>(List.of("mount"));
    args.addAll(List.of(options));
    args.add(archive);
    args.add(mountpoint.toString());
    Mounted.Cleanup cleanup = new Mounted.Cleanup(mountpoint);
    Run.Result r = vmafs(args.toArray(String[]::new));
    if (r.code() != 0) {
      cleanup.close();
      r.ok();
    }
    return cleanup;
  }
}
