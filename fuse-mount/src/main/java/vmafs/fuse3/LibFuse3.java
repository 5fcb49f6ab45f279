package vmafs.fuse3;

import jnr.ffi.Pointer;
import jnr.ffi.types.size_t;

/**
 * The libfuse3 entry points the binding uses that every supported version exports alike (each
 * {@code FUSE_3.0}, the default version that jnr-ffi's plain dlsym returns). The constructor
 * differs between versions: see {@link Fuse3Abi}. Public only because jnr-ffi generates the
 * implementations in its own class loader.
 */
public interface LibFuse3 {
  /** {@code major * 10 + minor} up to libfuse 3.9, {@code major * 100 + minor} from 3.10. */
  int fuse_version();

  /** The full version, e.g. {@code "3.14.0"} (since libfuse 3.0). */
  String fuse_pkgversion();

  int fuse_mount(Pointer fuse, Pointer mountpoint);

  void fuse_unmount(Pointer fuse);

  void fuse_destroy(Pointer fuse);

  Pointer fuse_get_session(Pointer fuse);

  /** Bytes received, 0 once the connection has ended (ENODEV), or a negative errno. */
  int fuse_session_receive_buf(Pointer session, Pointer buf);

  void fuse_session_process_buf(Pointer session, Pointer buf);

  int fuse_session_exited(Pointer session);

  void fuse_session_exit(Pointer session);

  /** Frees the argv that fuse_new's option parser allocated in place of ours. */
  void fuse_opt_free_args(Pointer args);

  /** libfuse 3.1–3.16: {@code fuse_new@@FUSE_3.1}. */
  interface New31 {
    Pointer fuse_new(Pointer args, Pointer operations, @size_t long operationsSize,
        Pointer userData);
  }

  /**
   * libfuse 3.17+: {@code _fuse_new_31@@FUSE_3.17}, what 3.17's inline {@code fuse_new} calls; the
   * extra argument is a {@code struct libfuse_version *}.
   */
  interface New317 {
    Pointer _fuse_new_31(Pointer args, Pointer operations, @size_t long operationsSize,
        Pointer version, Pointer userData);
  }
}
