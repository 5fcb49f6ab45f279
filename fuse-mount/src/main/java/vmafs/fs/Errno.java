package vmafs.fs;

/** Linux errno values the filesystem answers with (asm-generic, the same on x86_64 and aarch64). */
public final class Errno {
  public static final int ENOENT = 2;
  public static final int EIO = 5;
  public static final int ENXIO = 6;
  public static final int EBADF = 9;
  public static final int EACCES = 13;
  public static final int ENOTDIR = 20;
  public static final int EISDIR = 21;
  public static final int EINVAL = 22;
  public static final int EROFS = 30;
  public static final int ENOSYS = 38;
  public static final int ERANGE = 34;
  public static final int ENODATA = 61;
  public static final int EOPNOTSUPP = 95;

  private Errno() {}
}
