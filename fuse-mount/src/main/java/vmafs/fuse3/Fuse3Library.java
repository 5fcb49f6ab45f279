package vmafs.fuse3;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import vmafs.fs.FuseException;

/**
 * libfuse3 and libc, loaded once per process, after a start-up check that this binding fits the
 * machine: a known architecture, a libfuse 3 whose version names a {@link Fuse3Abi} (3.8 or
 * newer, the first with the lseek operation), every bound symbol resolving to the version whose
 * signature the binding uses, and a {@code struct stat} that reads back what Java sees for "/".
 *
 * <p>Without {@value #LIBRARY_PROPERTY} the system's {@code libfuse3.so.4} (libfuse ≥ 3.17) is
 * tried first, then {@code libfuse3.so.3}. Only a library that cannot be opened at all passes on
 * to the next: both export the same {@code FUSE_3.0} symbol names, so once one is in the process
 * a second could bind some of its calls to the first one's functions.
 */
final class Fuse3Library {
  private static final Logger log = LoggerFactory.getLogger(Fuse3Library.class);
  /** The libfuse3 file to load instead of the system's (docs/fuse.md §9). */
  static final String LIBRARY_PROPERTY = "vmafs.libfuse3";
  /** The same, for launchers and child processes; the system property wins. */
  static final String LIBRARY_ENV = "VMAFS_LIBFUSE3";

  final LibFuse3 fuse;
  final LibC libc;
  final Runtime runtime;
  final Layout.Stat stat;
  final Fuse3Abi abi;
  /** What was loaded: a soname or the configured path. */
  final String name;
  private final Fuse3Abi.Constructor constructor;
  /** The probe's handle; held so that the library is never unloaded under jnr-ffi. */
  @SuppressWarnings("unused")
  private final com.kenai.jffi.Library handle;

  private Fuse3Library(Loaded loaded, LibC libc, Layout.Stat stat, Fuse3Abi abi,
      Fuse3Abi.Constructor constructor) {
    this.fuse = loaded.fuse;
    this.handle = loaded.handle;
    this.name = loaded.name;
    this.libc = libc;
    this.runtime = Runtime.getRuntime(fuse);
    this.stat = stat;
    this.abi = abi;
    this.constructor = constructor;
  }

  /** The checked library, or a FuseException saying why libfuse3 cannot be used here. */
  static Fuse3Library get() {
    Object loaded = Holder.LOADED;
    if (loaded instanceof FuseException e) {
      throw new FuseException(e.getMessage(), e);
    }
    return (Fuse3Library) loaded;
  }

  /** {@code fuse_new(args, operations, size, NULL)}, whichever symbol this libfuse spells it. */
  Pointer fuseNew(Pointer args, Pointer operations, long operationsSize) {
    return constructor.call(args, operations, operationsSize);
  }

  /** {@code "libfuse3.so.4 3.17.2"}: what was loaded and the version it reports. */
  String describe() {
    return name + " " + fuse.fuse_pkgversion();
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
    String configured = System.getProperty(LIBRARY_PROPERTY, System.getenv(LIBRARY_ENV));
    if (configured != null && !configured.isEmpty()) {
      // dlopen takes a name with a slash as a path, relative to the working directory.
      String file = configured.contains("/") ? Path.of(configured).toAbsolutePath().toString()
          : configured;
      return load(List.of(file), true, stat);
    }
    return load(List.of(Fuse3Abi.V3_17.soname, Fuse3Abi.V3_1.soname), false, stat);
  }

  /**
   * Opens the first of {@code candidates} that can be opened and checks it; package-private so
   * that tests can check a library without making it the process's one.
   *
   * @param configured the candidate was named by the user, so its file name need not be a soname
   * @return the checked library, or a FuseException saying what is wrong
   */
  static Object load(List<String> candidates, boolean configured, Layout.Stat stat) {
    Loaded loaded = open(candidates, configured);
    if (loaded.failure != null) {
      return new FuseException(loaded.failure);
    }
    String name = loaded.name;
    int[] v = Fuse3Abi.decodeVersion(loaded.fuse.fuse_version());
    String pkg = loaded.fuse.fuse_pkgversion();
    String majorMinor = v[0] + "." + v[1];
    if (!pkg.equals(majorMinor) && !pkg.startsWith(majorMinor + ".")
        && !pkg.startsWith(majorMinor + "-")) {
      return new FuseException(name + " reports libfuse " + majorMinor + " from fuse_version() but "
          + pkg + " from fuse_pkgversion(); use the libfuse2 backend");
    }
    Fuse3Abi abi = Fuse3Abi.of(v[0], v[1]);
    if (abi == null) {
      return new FuseException(name + " is libfuse " + pkg + "; the libfuse3 backend needs libfuse 3 ("
          + Fuse3Abi.oldestSupported() + " or newer, for SEEK_DATA/SEEK_HOLE), or use the libfuse2"
          + " backend");
    }
    if (!configured && !abi.soname.equals(name)) {
      return new FuseException(name + " is libfuse " + pkg + ", whose ABI is that of "
          + abi.soname + "; this installation is inconsistent, use the libfuse2 backend");
    }
    LibC libc = LibraryLoader.create(LibC.class).load("c");
    String symbols = symbolMismatch(libc, name, abi.symbolVersions());
    if (symbols != null) {
      return new FuseException(name + " (libfuse " + pkg + ") does not export what the binding"
          + " calls (" + symbols + "); use the libfuse2 backend");
    }
    if (loaded.handle.getSymbolAddress(abi.constructor) == 0) {
      return new FuseException(name + " (libfuse " + pkg + ") lacks " + abi.constructor
          + "; use the libfuse2 backend");
    }
    Fuse3Abi.Constructor constructor = abi.bind(name);
    Fuse3Library lib = new Fuse3Library(loaded, libc, stat, abi, constructor);
    String mismatch = lib.statMismatch();
    if (mismatch != null) {
      return new FuseException("the " + System.getProperty("os.arch") + " struct stat layout of the"
          + " libfuse3 binding does not match this system (" + mismatch + "); use the libfuse2"
          + " backend");
    }
    if (v[1] > Fuse3Abi.NEWEST_CHECKED_MINOR) {
      log.debug("{} is newer than libfuse {}, the newest the binding was checked against; its"
          + " soname promises the same ABI", lib.describe(), Fuse3Abi.NEWEST_CHECKED);
    }
    log.debug("{} ({} ABI) passed the start-up check", lib.describe(), abi);
    return lib;
  }

  /** A library that could be opened, or why none could. */
  private record Loaded(String name, com.kenai.jffi.Library handle, LibFuse3 fuse,
      String failure) {}

  private static Loaded open(List<String> candidates, boolean configured) {
    List<String> reasons = new ArrayList<>();
    for (String candidate : candidates) {
      com.kenai.jffi.Library handle = com.kenai.jffi.Library.openLibrary(candidate,
          com.kenai.jffi.Library.LAZY | com.kenai.jffi.Library.LOCAL);
      if (handle == null) {
        reasons.add(com.kenai.jffi.Library.getLastError());
        continue;
      }
      // jnr-ffi binds a missing function to a stub that throws only when called.
      List<String> missing = Fuse3Abi.COMMON_SYMBOLS.stream()
          .filter(s -> handle.getSymbolAddress(s) == 0).toList();
      if (!missing.isEmpty()) {
        return new Loaded(candidate, null, null, candidate + " is not a usable libfuse3: it lacks "
            + String.join(", ", missing));
      }
      try {
        LibFuse3 fuse = LibraryLoader.create(LibFuse3.class).failImmediately().load(candidate);
        return new Loaded(candidate, handle, fuse, null);
      } catch (LinkageError e) {
        return new Loaded(candidate, null, null, candidate + " is not a usable libfuse3: "
            + e.getMessage().lines().findFirst().orElse(""));
      }
    }
    return new Loaded(null, null, null, (configured ? "the libfuse3 that " + LIBRARY_PROPERTY
        + " or " + LIBRARY_ENV + " names cannot be loaded: " : "libfuse3 cannot be loaded (install"
        + " fuse3): ") + String.join("; ", reasons));
  }

  /**
   * Whether plain dlsym, which jnr-ffi uses, resolves each symbol to the version whose signature
   * the binding was written for: libfuse changes a signature by adding a new default version.
   * Null when all agree, or when libc cannot tell (glibc before 2.34 keeps dlvsym in libdl).
   */
  static String symbolMismatch(LibC libc, String library, Map<String, String> expected) {
    Pointer h;
    try {
      h = libc.dlopen(library, LibC.RTLD_LAZY | LibC.RTLD_NOLOAD);
    } catch (UnsatisfiedLinkError e) {
      log.debug("libc has no dlopen; symbol versions not checked", e);
      return null;
    }
    if (h == null) {
      return library + " is not loaded";
    }
    try {
      List<String> wrong = new ArrayList<>();
      for (Map.Entry<String, String> e : expected.entrySet()) {
        Pointer plain = libc.dlsym(h, e.getKey());
        Pointer versioned = libc.dlvsym(h, e.getKey(), e.getValue());
        if (versioned == null) {
          wrong.add("no " + e.getKey() + "@" + e.getValue());
        } else if (plain == null || plain.address() != versioned.address()) {
          wrong.add(e.getKey() + " does not default to " + e.getValue());
        }
      }
      return wrong.isEmpty() ? null : String.join(", ", wrong);
    } finally {
      libc.dlclose(h);
    }
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
