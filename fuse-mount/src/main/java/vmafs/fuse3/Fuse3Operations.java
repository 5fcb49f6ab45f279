package vmafs.fuse3;

import com.kenai.jffi.CallContext;
import com.kenai.jffi.CallingConvention;
import com.kenai.jffi.Invoker;
import com.kenai.jffi.MemoryIO;
import com.kenai.jffi.Type;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.annotations.Delegate;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;
import vmafs.fs.Errno;
import vmafs.fs.ReadOnlyFs;
import vmafs.fuse.CallbackErrors;

/**
 * The {@code struct fuse_operations} of one mount: {@link ReadOnlyFs} behind jnr-ffi closures.
 * Slots left NULL answer ENOSYS, which the kernel remembers, so an operation nobody implements
 * costs one round trip per mount: getxattr/listxattr (no xattrs; the kernel then says
 * EOPNOTSUPP), flush, fsync, release and opendir (nothing to do).
 *
 * <p>Callbacks take {@code const char *path} as a Pointer and decode it only where the file is
 * not known from its handle. They catch Throwable: see {@link CallbackErrors}.
 */
final class Fuse3Operations {
  private static final int PATH_MAX = 4096;

  /** {@code fuse_fill_dir_t}: int (*)(void *buf, const char *name, const struct stat *, off_t, enum flags). */
  private static final CallContext FILL_DIR = CallContext.getCallContext(Type.SINT,
      new Type[] {Type.POINTER, Type.POINTER, Type.POINTER, Type.SINT64, Type.SINT},
      CallingConvention.DEFAULT, false);

  public interface Getattr {
    @Delegate
    int call(Pointer path, Pointer stat, Pointer fi);
  }

  public interface Readdir {
    @Delegate
    int call(Pointer path, Pointer buf, Pointer filler, @off_t long offset, Pointer fi, int flags);
  }

  public interface Open {
    @Delegate
    int call(Pointer path, Pointer fi);
  }

  public interface Read {
    @Delegate
    int call(Pointer path, Pointer buf, @size_t long size, @off_t long offset, Pointer fi);
  }

  public interface Statfs {
    @Delegate
    int call(Pointer path, Pointer statvfs);
  }

  public interface Init {
    @Delegate
    Pointer call(Pointer conn, Pointer config);
  }

  public interface Access {
    @Delegate
    int call(Pointer path, int mask);
  }

  public interface Lseek {
    @Delegate
    @off_t
    long call(Pointer path, @off_t long offset, int whence, Pointer fi);
  }

  /**
   * The write operations, each answering EROFS. One argument-less closure serves every int
   * signature: in the x86_64 and aarch64 C calling conventions arguments travel in registers the
   * callee may ignore, and the caller cleans up.
   */
  public interface ReadOnlyInt {
    @Delegate
    int call();
  }

  /** As {@link ReadOnlyInt}, for copy_file_range, which returns ssize_t. */
  public interface ReadOnlyLong {
    @Delegate
    long call();
  }

  private static final int[] WRITE_OPERATIONS = {Layout.OP_MKNOD, Layout.OP_MKDIR,
      Layout.OP_UNLINK, Layout.OP_RMDIR, Layout.OP_SYMLINK, Layout.OP_RENAME, Layout.OP_LINK,
      Layout.OP_CHMOD, Layout.OP_CHOWN, Layout.OP_TRUNCATE, Layout.OP_WRITE, Layout.OP_SETXATTR,
      Layout.OP_REMOVEXATTR, Layout.OP_CREATE, Layout.OP_UTIMENS, Layout.OP_FALLOCATE};

  private final ReadOnlyFs fs;
  private final Fuse3Library lib;
  private final int maxRead;
  private final boolean directIo;
  private final Runnable connected;
  private final Pointer table;
  /** Closure objects and their native trampolines: libfuse holds only raw addresses. */
  private final List<Object> keepAlive = new ArrayList<>();

  /**
   * @param maxRead the {@code max_read=} mount option, 0 if not given
   * @param directIo serve every file with {@code direct_io} (bypassing the page cache)
   * @param connected run from init, i.e. once the kernel has connected
   */
  Fuse3Operations(ReadOnlyFs fs, Fuse3Library lib, int maxRead, boolean directIo, Runnable connected) {
    this.fs = fs;
    this.lib = lib;
    this.maxRead = maxRead;
    this.directIo = directIo;
    this.connected = connected;
    this.table = Memory.allocateDirect(lib.runtime, Layout.OPERATIONS_SIZE, true);
    set(Layout.OP_GETATTR, Getattr.class, (Getattr) this::getattr);
    set(Layout.OP_READDIR, Readdir.class, (Readdir) this::readdir);
    set(Layout.OP_OPEN, Open.class, (Open) this::open);
    set(Layout.OP_READ, Read.class, (Read) this::read);
    set(Layout.OP_STATFS, Statfs.class, (Statfs) this::statfs);
    set(Layout.OP_INIT, Init.class, (Init) this::init);
    set(Layout.OP_ACCESS, Access.class, (Access) this::access);
    set(Layout.OP_LSEEK, Lseek.class, (Lseek) this::lseek);
    ReadOnlyInt erofs = () -> -Errno.EROFS;
    for (int slot : WRITE_OPERATIONS) {
      set(slot, ReadOnlyInt.class, erofs);
    }
    set(Layout.OP_COPY_FILE_RANGE, ReadOnlyLong.class, (ReadOnlyLong) () -> -Errno.EROFS);
  }

  /** The table to hand to fuse_new; valid as long as this object is reachable. */
  Pointer table() {
    return table;
  }

  private <T> void set(int slot, Class<T> type, T callback) {
    Pointer closure = lib.runtime.getClosureManager().getClosurePointer(type, callback);
    keepAlive.add(callback);
    keepAlive.add(closure);
    table.putPointer(slot * 8L, closure);
  }

  private int getattr(Pointer path, Pointer stat, Pointer fi) {
    try {
      ReadOnlyFs.Node node = fs.lookup(decode(path));
      if (node == null) {
        return -Errno.ENOENT;
      }
      writeStat(stat, fs.getattr(node));
      return 0;
    } catch (Throwable t) {
      return CallbackErrors.eio("getattr", t);
    }
  }

  /** libfuse zeroes the struct before getattr, so only the fields that matter are written. */
  private void writeStat(Pointer stat, ReadOnlyFs.Attr a) {
    Layout.Stat l = lib.stat;
    stat.putLong(l.ino(), a.inode());
    stat.putInt(l.mode(), a.mode());
    if (l.nlinkBytes() == 8) {
      stat.putLong(l.nlink(), a.nlink());
    } else {
      stat.putInt(l.nlink(), a.nlink());
    }
    stat.putLong(l.fileSize(), a.size());
    stat.putLong(l.blocks(), a.blocks512());
    // blksize_t is long on x86_64 and int on aarch64; libfuse zeroed the struct, so the low
    // 32 bits (little-endian) carry the value on both.
    stat.putInt(l.blksize(), ReadOnlyFs.IO_BLOCK_SIZE);
    stat.putLong(l.atime(), a.mtimeSeconds());
    stat.putLong(l.mtime(), a.mtimeSeconds());
    stat.putLong(l.ctime(), a.mtimeSeconds());
  }

  private int readdir(Pointer path, Pointer buf, Pointer filler, long offset, Pointer fi,
      int flags) {
    try {
      ReadOnlyFs.Node dir = fs.lookup(decode(path));
      if (dir == null) {
        return -Errno.ENOENT;
      }
      if (!dir.isRoot()) {
        return -Errno.ENOTDIR;
      }
      // Offset 0 to the filler means "all entries in one go"; libfuse buffers them.
      Pointer stat = Memory.allocateDirect(lib.runtime, lib.stat.size(), true);
      fill(filler, buf, ".", stat, fs.getattr(dir));
      fill(filler, buf, "..", null, null);
      for (String name : fs.list()) {
        fill(filler, buf, name, stat, fs.getattr(fs.lookup(name)));
      }
      return 0;
    } catch (Throwable t) {
      return CallbackErrors.eio("readdir", t);
    }
  }

  /**
   * Passes the inode and type along, so that ls needs no stat for d_type. The filler's result is
   * not checked: in offset-0 mode it fails only when out of memory, and then libfuse itself
   * answers the readdir with ENOMEM.
   */
  private void fill(Pointer filler, Pointer buf, String name, Pointer stat, ReadOnlyFs.Attr attr) {
    if (attr != null) {
      writeStat(stat, attr);
    }
    Invoker.getInstance().invokeN5(FILL_DIR, filler.address(), buf.address(),
        lib.cString(name).address(), stat == null ? 0 : stat.address(), 0, 0);
  }

  private int open(Pointer path, Pointer fi) {
    try {
      ReadOnlyFs.Node node = fs.lookup(decode(path));
      if (node == null) {
        return -Errno.ENOENT;
      }
      long handle = fs.open(node, fi.getInt(Layout.FI_FLAGS));
      if (handle < 0) {
        return (int) handle;
      }
      fi.putLong(Layout.FI_FH, handle);
      return 0;
    } catch (Throwable t) {
      return CallbackErrors.eio("open", t);
    }
  }

  /** Zero-copy: the content writes straight into the reply buffer libfuse allocated. */
  private int read(Pointer path, Pointer buf, long size, long offset, Pointer fi) {
    try {
      ReadOnlyFs.Node node = fs.node(fi.getLong(Layout.FI_FH));
      if (node == null) {
        return -Errno.EBADF;
      }
      ByteBuffer dst = MemoryIO.getInstance().newDirectByteBuffer(buf.address(), (int) size);
      return fs.read(node, offset, dst);
    } catch (Throwable t) {
      return CallbackErrors.eio("read", t);
    }
  }

  private int statfs(Pointer path, Pointer statvfs) {
    try {
      ReadOnlyFs.FsStats s = fs.statfs();
      statvfs.putLong(Layout.STATVFS_BSIZE, s.blockSize());
      statvfs.putLong(Layout.STATVFS_FRSIZE, s.blockSize());
      statvfs.putLong(Layout.STATVFS_BLOCKS, s.blocks());
      statvfs.putLong(Layout.STATVFS_FILES, s.files());
      statvfs.putLong(Layout.STATVFS_NAMEMAX, s.nameMax());
      return 0;
    } catch (Throwable t) {
      return CallbackErrors.eio("statfs", t);
    }
  }

  private Pointer init(Pointer conn, Pointer config) {
    try {
      if (maxRead > 0) {
        // libfuse3 refuses INIT if -o max_read and conn->max_read disagree (docs/fuse.md §6).
        conn.putInt(Layout.CONN_MAX_READ, maxRead);
      }
      // Report ReadOnlyFs's stable inode numbers, not libfuse's per-mount counter. libfuse3 has
      // no mount option for this any more.
      config.putInt(Layout.CONFIG_USE_INO, 1);
      if (directIo) {
        config.putInt(Layout.CONFIG_DIRECT_IO, 1);
      }
      lib.abi.declineIoUring(conn);
      connected.run();
    } catch (Throwable t) {
      CallbackErrors.eio("init", t);
    }
    return null;
  }

  private int access(Pointer path, int mask) {
    try {
      ReadOnlyFs.Node node = fs.lookup(decode(path));
      return node == null ? -Errno.ENOENT : fs.access(node, mask);
    } catch (Throwable t) {
      return CallbackErrors.eio("access", t);
    }
  }

  private long lseek(Pointer path, long offset, int whence, Pointer fi) {
    try {
      ReadOnlyFs.Node node = fi != null ? fs.node(fi.getLong(Layout.FI_FH))
          : fs.lookup(decode(path));
      return node == null ? -Errno.EBADF : fs.lseek(node, offset, whence);
    } catch (Throwable t) {
      return CallbackErrors.eio("lseek", t);
    }
  }

  private static String decode(Pointer path) {
    return path.getString(0, PATH_MAX, StandardCharsets.UTF_8);
  }
}
