package vmafs.fuse3;

/**
 * Byte offsets of every C struct field the binding reads or writes, for glibc on the two
 * supported 64-bit architectures. Checked with offsetof against the headers of libfuse 3.14,
 * 3.17.2 and 3.18.2 on x86_64; see docs/fuse.md §7 and §9. Only {@code struct stat} differs
 * between the architectures: aarch64 uses the asm-generic layout with a 32-bit {@code st_nlink}
 * after {@code st_mode}.
 *
 * <p>Each offset here is the same in every libfuse from 3.8 on (3.17 grew some structs only at
 * their end); what differs between versions is in {@link Fuse3Abi}.
 */
final class Layout {
  /**
   * {@code struct fuse_operations} through {@code lseek}: 42 function pointers, the whole table
   * up to 3.17. libfuse 3.18 appends {@code statx}, which a 336-byte table leaves NULL: libfuse
   * answers ENOSYS and the kernel falls back to getattr.
   */
  static final int OPERATIONS_SIZE = 42 * 8;

  /** Slot numbers in {@code struct fuse_operations}; byte offset = slot × 8. */
  static final int OP_GETATTR = 0;
  static final int OP_MKNOD = 2;
  static final int OP_MKDIR = 3;
  static final int OP_UNLINK = 4;
  static final int OP_RMDIR = 5;
  static final int OP_SYMLINK = 6;
  static final int OP_RENAME = 7;
  static final int OP_LINK = 8;
  static final int OP_CHMOD = 9;
  static final int OP_CHOWN = 10;
  static final int OP_TRUNCATE = 11;
  static final int OP_OPEN = 12;
  static final int OP_READ = 13;
  static final int OP_WRITE = 14;
  static final int OP_STATFS = 15;
  static final int OP_SETXATTR = 19;
  static final int OP_REMOVEXATTR = 22;
  static final int OP_READDIR = 24;
  static final int OP_INIT = 27;
  static final int OP_ACCESS = 29;
  static final int OP_CREATE = 30;
  static final int OP_UTIMENS = 32;
  static final int OP_FALLOCATE = 39;
  static final int OP_COPY_FILE_RANGE = 40;
  static final int OP_LSEEK = 41;

  /** {@code struct fuse_file_info} (40 bytes; 64 from 3.17, which libfuse allocates). */
  static final int FI_FLAGS = 0;
  static final int FI_FH = 16;

  /** {@code struct fuse_conn_info} (128 bytes). */
  static final int CONN_MAX_READ = 12;
  /** The 32-bit capability word; 3.17 adds {@code want_ext} ({@link Fuse3Abi}). */
  static final int CONN_WANT = 24;

  /** {@code struct fuse_config} (128 bytes). */
  static final int CONFIG_USE_INO = 64;
  static final int CONFIG_DIRECT_IO = 72;

  /** {@code struct fuse_args} (24 bytes): int argc, char **argv, int allocated. */
  static final int ARGS_SIZE = 24;
  static final int ARGS_ARGC = 0;
  static final int ARGS_ARGV = 8;

  /**
   * {@code struct fuse_buf}, whose size is {@link Fuse3Abi#bufSize}; {@code mem} is malloc'ed by
   * libfuse, freed by us.
   */
  static final int BUF_MEM = 16;

  /** {@code struct statvfs} (112 bytes, all fields 64-bit on both architectures). */
  static final int STATVFS_BSIZE = 0;
  static final int STATVFS_FRSIZE = 8;
  static final int STATVFS_BLOCKS = 16;
  static final int STATVFS_FILES = 40;
  static final int STATVFS_NAMEMAX = 80;

  /**
   * {@code struct stat}. The timestamps are {@code struct timespec}; only their seconds are set.
   *
   * @param size sizeof(struct stat)
   * @param nlinkBytes 8 ({@code nlink_t} is unsigned long on x86_64) or 4 (asm-generic)
   */
  record Stat(int size, int ino, int mode, int nlink, int nlinkBytes, int fileSize, int blksize,
      int blocks, int atime, int mtime, int ctime) {}

  static final Stat STAT_X86_64 = new Stat(144, 8, 24, 16, 8, 48, 56, 64, 72, 88, 104);
  static final Stat STAT_AARCH64 = new Stat(128, 8, 16, 20, 4, 48, 56, 64, 72, 88, 104);

  private Layout() {}

  /**
   * The {@code struct stat} layout for a JVM {@code os.arch}, or null for an architecture this
   * table was not written for.
   */
  static Stat statFor(String osArch) {
    return switch (osArch) {
      case "amd64", "x86_64" -> STAT_X86_64;
      case "aarch64", "arm64" -> STAT_AARCH64;
      default -> null;
    };
  }
}
