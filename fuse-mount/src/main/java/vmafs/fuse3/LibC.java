package vmafs.fuse3;

import jnr.ffi.Pointer;

/** The libc functions the binding needs. Public only for jnr-ffi's generated class. */
public interface LibC {
  int RTLD_LAZY = 0x1;
  /** glibc: return the handle of an already loaded object, load nothing. */
  int RTLD_NOLOAD = 0x4;

  void free(Pointer p);

  /** glibc ≥ 2.33 exports stat itself; used only to check {@link Layout.Stat} at start-up. */
  int stat(Pointer path, Pointer buf);

  /**
   * In libc itself from glibc 2.34 (before, in libdl); used only for the start-up check of
   * symbol versions.
   */
  Pointer dlopen(String file, int mode);

  Pointer dlsym(Pointer handle, String symbol);

  Pointer dlvsym(Pointer handle, String symbol, String version);

  int dlclose(Pointer handle);
}
