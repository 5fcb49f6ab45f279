package vmafs.fuse2;

import com.kenai.jffi.MemoryIO;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import jnr.ffi.Pointer;
import jnr.ffi.Struct;
import ru.serce.jnrfuse.FuseFillDir;
import ru.serce.jnrfuse.FuseStubFS;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.FuseFileInfo;
import ru.serce.jnrfuse.struct.Statvfs;
import ru.serce.jnrfuse.struct.Timespec;
import vmafs.fs.Errno;
import vmafs.fs.ReadOnlyFs;
import vmafs.fuse.CallbackErrors;

/**
 * {@link ReadOnlyFs} as a jnr-fuse filesystem. jnr-fuse fills only the slots of overridden
 * methods; the rest stay NULL (ENOSYS), as in the libfuse3 binding. Callbacks catch Throwable:
 * see {@link CallbackErrors}.
 */
final class Fuse2Fs extends FuseStubFS {
  private final ReadOnlyFs fs;
  private final Runnable connected;

  Fuse2Fs(ReadOnlyFs fs, Runnable connected) {
    this.fs = fs;
    this.connected = connected;
  }

  /**
   * Mounts and serves on the calling thread until unmounted, bypassing {@code mount()}, which
   * would add a shutdown hook per mount and count a slow mount as a successful one.
   *
   * @return fuse_main_real's result: 0 after a clean unmount
   */
  int serve(String[] argv) {
    return libFuse.fuse_main_real(argv.length, argv, fuseOperations, Struct.size(fuseOperations),
        null);
  }

  @Override
  public Pointer init(Pointer conn) {
    try {
      connected.run();
    } catch (Throwable t) {
      CallbackErrors.eio("init", t);
    }
    return null;
  }

  @Override
  public int getattr(String path, FileStat stat) {
    try {
      ReadOnlyFs.Node node = fs.lookup(path);
      if (node == null) {
        return -Errno.ENOENT;
      }
      ReadOnlyFs.Attr a = fs.getattr(node);
      stat.st_ino.set(a.inode());
      stat.st_mode.set(a.mode());
      stat.st_nlink.set(a.nlink());
      stat.st_size.set(a.size());
      stat.st_blocks.set(a.blocks512());
      stat.st_blksize.set(ReadOnlyFs.IO_BLOCK_SIZE);
      stat.st_atim.tv_sec.set(a.mtimeSeconds());
      stat.st_mtim.tv_sec.set(a.mtimeSeconds());
      stat.st_ctim.tv_sec.set(a.mtimeSeconds());
      return 0;
    } catch (Throwable t) {
      return CallbackErrors.eio("getattr", t);
    }
  }

  @Override
  public int readdir(String path, Pointer buf, FuseFillDir filler, long offset, FuseFileInfo fi) {
    try {
      ReadOnlyFs.Node dir = fs.lookup(path);
      if (dir == null) {
        return -Errno.ENOENT;
      }
      if (!dir.isRoot()) {
        return -Errno.ENOTDIR;
      }
      fill(filler, buf, ".");
      fill(filler, buf, "..");
      for (String name : fs.list()) {
        fill(filler, buf, name);
      }
      return 0;
    } catch (Throwable t) {
      return CallbackErrors.eio("readdir", t);
    }
  }

  /** jnr-fuse's String overload encodes with the platform charset and adds no terminating NUL. */
  private static void fill(FuseFillDir filler, Pointer buf, String name) {
    byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
    ByteBuffer cString = ByteBuffer.allocate(utf8.length + 1).put(utf8).put((byte) 0).flip();
    filler.apply(buf, cString, null, 0);
  }

  @Override
  public int open(String path, FuseFileInfo fi) {
    try {
      ReadOnlyFs.Node node = fs.lookup(path);
      if (node == null) {
        return -Errno.ENOENT;
      }
      long handle = fs.open(node, fi.flags.get());
      if (handle < 0) {
        return (int) handle;
      }
      fi.fh.set(handle);
      return 0;
    } catch (Throwable t) {
      return CallbackErrors.eio("open", t);
    }
  }

  /** Zero-copy: the content writes straight into the reply buffer libfuse allocated. */
  @Override
  public int read(String path, Pointer buf, long size, long offset, FuseFileInfo fi) {
    try {
      ReadOnlyFs.Node node = fs.node(fi.fh.get());
      if (node == null) {
        return -Errno.EBADF;
      }
      ByteBuffer dst = MemoryIO.getInstance().newDirectByteBuffer(buf.address(), (int) size);
      return fs.read(node, offset, dst);
    } catch (Throwable t) {
      return CallbackErrors.eio("read", t);
    }
  }

  @Override
  public int statfs(String path, Statvfs stbuf) {
    try {
      ReadOnlyFs.FsStats s = fs.statfs();
      stbuf.f_bsize.set(s.blockSize());
      stbuf.f_frsize.set(s.blockSize());
      stbuf.f_blocks.set(s.blocks());
      stbuf.f_files.set(s.files());
      stbuf.f_namemax.set(s.nameMax());
      return 0;
    } catch (Throwable t) {
      return CallbackErrors.eio("statfs", t);
    }
  }

  @Override
  public int access(String path, int mask) {
    try {
      ReadOnlyFs.Node node = fs.lookup(path);
      return node == null ? -Errno.ENOENT : fs.access(node, mask);
    } catch (Throwable t) {
      return CallbackErrors.eio("access", t);
    }
  }

  // Every operation that could change something. The mount is also "ro", so the kernel refuses
  // most of these before they get here.

  @Override
  public int mknod(String path, long mode, long rdev) {
    return -Errno.EROFS;
  }

  @Override
  public int mkdir(String path, long mode) {
    return -Errno.EROFS;
  }

  @Override
  public int unlink(String path) {
    return -Errno.EROFS;
  }

  @Override
  public int rmdir(String path) {
    return -Errno.EROFS;
  }

  @Override
  public int symlink(String oldpath, String newpath) {
    return -Errno.EROFS;
  }

  @Override
  public int rename(String oldpath, String newpath) {
    return -Errno.EROFS;
  }

  @Override
  public int link(String oldpath, String newpath) {
    return -Errno.EROFS;
  }

  @Override
  public int chmod(String path, long mode) {
    return -Errno.EROFS;
  }

  @Override
  public int chown(String path, long uid, long gid) {
    return -Errno.EROFS;
  }

  @Override
  public int truncate(String path, long size) {
    return -Errno.EROFS;
  }

  @Override
  public int ftruncate(String path, long size, FuseFileInfo fi) {
    return -Errno.EROFS;
  }

  @Override
  public int write(String path, Pointer buf, long size, long offset, FuseFileInfo fi) {
    return -Errno.EROFS;
  }

  @Override
  public int create(String path, long mode, FuseFileInfo fi) {
    return -Errno.EROFS;
  }

  @Override
  public int getxattr(String path, String name, Pointer value, long size) {
    try {
      ReadOnlyFs.Node node = fs.lookup(path);
      if (node == null) {
        return -Errno.ENOENT;
      }
      int cap = (int) Math.min(size, 1 << 16);
      java.nio.ByteBuffer dst = cap == 0 || value == null ? null : java.nio.ByteBuffer.allocate(cap);
      int n = fs.getxattr(node, name, dst);
      if (n > 0 && dst != null) {
        value.put(0, dst.array(), 0, n);
      }
      return n;
    } catch (Throwable t) {
      return CallbackErrors.eio("getxattr", t);
    }
  }

  @Override
  public int setxattr(String path, String name, Pointer value, long size, int flags) {
    return -Errno.EROFS;
  }

  @Override
  public int removexattr(String path, String name) {
    return -Errno.EROFS;
  }

  @Override
  public int utimens(String path, Timespec[] timespec) {
    return -Errno.EROFS;
  }

  @Override
  public int fallocate(String path, int mode, long off, long length, FuseFileInfo fi) {
    return -Errno.EROFS;
  }
}
