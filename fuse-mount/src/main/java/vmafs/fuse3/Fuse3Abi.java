package vmafs.fuse3;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;

/**
 * Everything about libfuse3 that differs between the versions the binding speaks, in one table
 * (docs/fuse.md §9 gives the libfuse source lines for each entry). Every offset in {@link Layout}
 * holds for both.
 *
 * <p>libfuse 3.17 raised the soname to {@code libfuse3.so.4} and turned {@code fuse_new} into a
 * header inline over {@code _fuse_new_31}: the old {@code fuse_new} symbols are still exported,
 * but only as non-default versions, which plain {@code dlsym} (all that jnr-ffi uses) does not
 * return. It also appended {@code mem_size} to {@code struct fuse_buf}, which the binding
 * allocates, and added the 64-bit capability fields {@code capable_ext}/{@code want_ext} to
 * {@code struct fuse_conn_info}.
 */
enum Fuse3Abi {
  /** libfuse 3.8 (the first with lseek) to 3.16; Debian 12 / Proxmox VE 8 ship 3.14. */
  V3_1("libfuse3.so.3", 8, 16, "fuse_new", "FUSE_3.1", 40, -1),
  /** libfuse 3.17 and later; Debian 13 / Proxmox VE 9 ship 3.17.2. */
  V3_17("libfuse3.so.4", 17, Integer.MAX_VALUE, "_fuse_new_31", "FUSE_3.17", 48, 56);

  /** The newest libfuse whose headers and sources this table was checked against. */
  static final String NEWEST_CHECKED = "3.18.2";
  static final int NEWEST_CHECKED_MINOR = 18;

  /**
   * {@code struct libfuse_version} that {@code _fuse_new_31} takes: the headers a program was
   * compiled against. The binding's structs are those of 3.17.2 (42 operations, no statx), so it
   * says so; libfuse 3.17 and 3.18 store the value and use it for nothing else.
   */
  private static final int[] HEADER_VERSION = {3, 17, 2, 0};

  /**
   * {@code FUSE_CAP_OVER_IO_URING} (3.18): libfuse's own ring threads would take the requests
   * that Java's workers are meant to serve.
   */
  static final int CAP_OVER_IO_URING = 1 << 31;

  /** The symbol versions every ABI binds besides the constructor (all since libfuse 3.0). */
  static final List<String> COMMON_SYMBOLS = List.of("fuse_version", "fuse_pkgversion",
      "fuse_mount", "fuse_unmount", "fuse_destroy", "fuse_get_session", "fuse_session_receive_buf",
      "fuse_session_process_buf", "fuse_session_exited", "fuse_session_exit", "fuse_opt_free_args");
  private static final String COMMON_VERSION = "FUSE_3.0";

  final String soname;
  private final int minMinor;
  private final int maxMinor;
  /** The constructor's symbol and the version plain dlsym must resolve it to. */
  final String constructor;
  final String constructorVersion;
  /** {@code sizeof(struct fuse_buf)}. */
  final int bufSize;
  /** Offset of {@code uint64_t want_ext} in {@code struct fuse_conn_info}, -1 where absent. */
  private final int connWantExt;

  Fuse3Abi(String soname, int minMinor, int maxMinor, String constructor,
      String constructorVersion, int bufSize, int connWantExt) {
    this.soname = soname;
    this.minMinor = minMinor;
    this.maxMinor = maxMinor;
    this.constructor = constructor;
    this.constructorVersion = constructorVersion;
    this.bufSize = bufSize;
    this.connWantExt = connWantExt;
  }

  /** The ABI of libfuse {@code major.minor}, or null for one the binding cannot use. */
  static Fuse3Abi of(int major, int minor) {
    if (major != 3) {
      return null;
    }
    for (Fuse3Abi abi : values()) {
      if (minor >= abi.minMinor && minor <= abi.maxMinor) {
        return abi;
      }
    }
    return null;
  }

  /**
   * {@code fuse_version()}: {@code major * 10 + minor} up to libfuse 3.9, {@code major * 100 +
   * minor} from 3.10 on. Returns {major, minor}.
   */
  static int[] decodeVersion(int fuseVersion) {
    return fuseVersion < 100 ? new int[] {fuseVersion / 10, fuseVersion % 10}
        : new int[] {fuseVersion / 100, fuseVersion % 100};
  }

  /** The lowest libfuse version the binding accepts at all, for messages. */
  static String oldestSupported() {
    return "3." + V3_1.minMinor;
  }

  /** Every symbol the binding calls, with the version plain dlsym must resolve it to. */
  Map<String, String> symbolVersions() {
    Map<String, String> m = new LinkedHashMap<>();
    for (String s : COMMON_SYMBOLS) {
      m.put(s, COMMON_VERSION);
    }
    m.put(constructor, constructorVersion);
    return m;
  }

  /** {@code fuse_new} as this ABI spells it: {@code (args, operations, size)}, userdata NULL. */
  interface Constructor {
    Pointer call(Pointer args, Pointer operations, long operationsSize);
  }

  /** Binds this ABI's constructor in {@code library}, which must export it. */
  Constructor bind(String library) {
    if (this == V3_1) {
      LibFuse3.New31 lib = LibraryLoader.create(LibFuse3.New31.class).failImmediately()
          .load(library);
      return (args, ops, size) -> lib.fuse_new(args, ops, size, null);
    }
    LibFuse3.New317 lib = LibraryLoader.create(LibFuse3.New317.class).failImmediately()
        .load(library);
    Pointer version = Memory.allocateDirect(Runtime.getRuntime(lib), HEADER_VERSION.length * 4,
        true);
    for (int i = 0; i < HEADER_VERSION.length; i++) {
      version.putInt(i * 4L, HEADER_VERSION[i]);
    }
    // libfuse copies the struct; the lambda keeps it reachable regardless.
    return (args, ops, size) -> lib._fuse_new_31(args, ops, size, version, null);
  }

  /**
   * Called from init(): declines fuse-over-io-uring, so that every request keeps arriving through
   * {@code fuse_session_receive_buf} on Java's threads. The bit is cleared in {@code want} and
   * {@code want_ext} alike, as libfuse's own {@code fuse_unset_feature_flag} does: libfuse 3.17
   * merges a changed {@code want} into {@code want_ext} after init and treats both changing
   * differently as an error (fatal before 3.17.3). No-op where the fields or the bit do not exist.
   */
  void declineIoUring(Pointer conn) {
    if (connWantExt < 0) {
      return;
    }
    conn.putInt(Layout.CONN_WANT, conn.getInt(Layout.CONN_WANT) & ~CAP_OVER_IO_URING);
    conn.putLong(connWantExt, conn.getLong(connWantExt) & ~(CAP_OVER_IO_URING & 0xFFFF_FFFFL));
  }
}
