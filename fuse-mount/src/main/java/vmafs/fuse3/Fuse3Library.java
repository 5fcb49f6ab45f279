package vmafs.fuse3;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import vmafs.fs.FuseException;

/**
 * libfuse3 and libc, loaded once per process, after a start-up check that this binding's struct
 * layouts fit the machine: a known architecture, libfuse ≥ 3.8 (the first with the lseek
 * operation) and a {@code struct stat} that reads back what Java sees for "/".
 */
final class Fuse3Library {
  private static final Logger log = LoggerFactory.getLogger(Fuse3Library.class);
  static final String SONAME = "libfuse3.so.3";
  private static final int MIN_MINOR_VERSION = 8;

  final LibFuse3 fuse;
  final LibC libc;
  final Runtime runtime;
  final Layout.Stat stat;

  private Fuse3Library(LibFuse3 fuse, LibC libc, Layout.Stat stat) {
    this.fuse = fuse;
    this.libc = libc;
    this.runtime = Runtime.getRuntime(fuse);
    this.stat = stat;
  }

  /** The checked library, or a FuseException saying why libfuse3 cannot be used here. */
  static Fuse3Library get() {
    Object loaded = Holder.LOADED;
    if (loaded instanceof FuseException e) {
      throw new FuseException(e.getMessage(), e);
    }
    return (Fuse3Library) loaded;
  }

  private static final class Holder {
    static final Object LOADED = loadAndCheck();
  }

  private static Object loadAndCheck() {
    String arch = System.getProperty("os.arch");
    Layout.Stat stat = Layout.statFor(arch);
    if (stat == null) {
      return new FuseException("the libfuse3 binding knows the struct layouts of x86_64 and aarch64,"
          + " not " + arch + "; use the libfuse2 backend");
    }
    LibFuse3 fuse;
    LibC libc;
    try {
      fuse = LibraryLoader.create(LibFuse3.class).failImmediately().load(SONAME);
      libc = LibraryLoader.create(LibC.class).load("c");
    } catch (LinkageError e) {
      return new FuseException(SONAME + " cannot be loaded (install libfuse3-3 and fuse3): "
          + e.getMessage());
    }
    int v = fuse.fuse_version();
    int major = v < 100 ? v / 10 : v / 100;
    int minor = v < 100 ? v % 10 : v % 100;
    String version = major + "." + minor;
    if (major != 3 || minor < MIN_MINOR_VERSION) {
      return new FuseException(SONAME + " is version " + version + "; SEEK_DATA/SEEK_HOLE need 3."
          + MIN_MINOR_VERSION + " or newer (or use the libfuse2 backend)");
    }
    Fuse3Library lib = new Fuse3Library(fuse, libc, stat);
    String mismatch = lib.statMismatch();
    if (mismatch != null) {
      return new FuseException("the " + arch + " struct stat layout of the libfuse3 binding does not"
          + " match this system (" + mismatch + "); use the libfuse2 backend");
    }
    log.debug("{} {} passed the start-up check on {}", SONAME, version, arch);
    return lib;
  }

  /**
   * Stats "/" through libc with our offsets and compares with Java's view; null when they agree
   * or when libc is too old to export stat (glibc < 2.33, nothing to compare with).
   */
  private String statMismatch() {
    Map<String, Object> java;
    Pointer buf = Memory.allocateDirect(runtime, stat.size(), true);
    try {
      java = Files.readAttributes(Path.of("/"), "unix:ino,mode,nlink,size");
      if (libc.stat(cString("/"), buf) != 0) {
        return "stat(\"/\") failed with errno " + runtime.getLastError();
      }
    } catch (IOException e) {
      return "cannot stat /: " + e.getMessage();
    } catch (UnsatisfiedLinkError e) {
      log.debug("libc has no stat symbol; struct stat layout not checked", e);
      return null;
    }
    long nlink = stat.nlinkBytes() == 8 ? buf.getLong(stat.nlink()) : buf.getInt(stat.nlink());
    if (buf.getLong(stat.ino()) != (Long) java.get("ino")
        || buf.getInt(stat.mode()) != (Integer) java.get("mode")
        || nlink != (Integer) java.get("nlink")
        || buf.getLong(stat.fileSize()) != (Long) java.get("size")) {
      return "libc reports ino " + buf.getLong(stat.ino()) + " mode " + buf.getInt(stat.mode())
          + " nlink " + nlink + " size " + buf.getLong(stat.fileSize()) + " for /, Java " + java;
    }
    return null;
  }

  /** A NUL-terminated UTF-8 copy in native memory, freed when the returned Pointer is collected. */
  Pointer cString(String s) {
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    Pointer p = Memory.allocateDirect(runtime, bytes.length + 1, true);
    p.put(0, bytes, 0, bytes.length);
    return p;
  }
}
