package vmafs.fuse3;

import jnr.ffi.Pointer;

/** The two libc functions the binding needs. Public only for jnr-ffi's generated class. */
public interface LibC {
  void free(Pointer p);

  /** glibc ≥ 2.33 exports stat itself; used only to check {@link Layout.Stat} at start-up. */
  int stat(Pointer path, Pointer buf);
}
