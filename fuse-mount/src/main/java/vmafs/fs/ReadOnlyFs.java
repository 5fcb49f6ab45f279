package vmafs.fs;

import vmafs.image.ImageContent;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The filesystem logic, written once and shared by every FUSE backend: a flat, read-only
 * directory of files. Answers are plain values or negative errno codes, never exceptions, so a
 * backend only translates them into native structs.
 */
public final class ReadOnlyFs {
  private static final Logger log = LoggerFactory.getLogger(ReadOnlyFs.class);

  public static final int SEEK_SET = 0;
  public static final int SEEK_CUR = 1;
  public static final int SEEK_END = 2;
  public static final int SEEK_DATA = 3;
  public static final int SEEK_HOLE = 4;

  public static final int S_IFDIR = 0040000;
  public static final int S_IFREG = 0100000;
  public static final long ROOT_INODE = 1;

  /** A file of the mount: its name in the root directory and what it holds. */
  public record Entry(String name, ImageContent content) {
    public Entry {
      if (name.isEmpty() || name.contains("/") || name.equals(".") || name.equals("..")
          || name.indexOf('\0') >= 0) {
        throw new IllegalArgumentException("invalid file name: " + name);
      }
    }
  }

  /**
   * The {@code st_blksize} of every file: the I/O size tools like {@code cp} read with. 1 MiB (the
   * largest FUSE read request) instead of 4 KiB: cp then reads a 1 MiB chunk per FUSE round trip,
   * not 128 KiB, which under direct I/O is ~8x fewer trips for a sequential copy.
   */
  public static final int IO_BLOCK_SIZE = 1 << 20;

  /** What {@code getattr} reports; the backend copies it into {@code struct stat}. */
  public record Attr(long inode, int mode, int nlink, long size, long blocks512, long mtimeSeconds) {
    public boolean isDirectory() {
      return (mode & 0170000) == S_IFDIR;
    }
  }

  /** A resolved path: the root (file == null) or one file. Handles are indexes into the file list. */
  public record Node(int handle, Entry file) {
    public boolean isRoot() {
      return file == null;
    }
  }

  /** What {@code statfs} reports; the backend copies it into {@code struct statvfs}. */
  public record FsStats(long blockSize, long blocks, long files, int nameMax) {}

  /** Block size reported by statfs; the unit of {@link FsStats#blocks()}. */
  private static final int STATFS_BLOCK_SIZE = 4096;
  private static final int NAME_MAX = 255;
  private static final int R_OK = 4;
  private static final int W_OK = 2;
  private static final int X_OK = 1;

  private static final Node ROOT = new Node(-1, null);

  private final List<Entry> files;
  private final Map<String, Integer> byName;
  private final long mtimeSeconds;
  private final int fileMode;
  private final int dirMode;

  public ReadOnlyFs(List<Entry> files, long mtimeSeconds) {
    this(files, mtimeSeconds, 0444, 0555);
  }

  public ReadOnlyFs(List<Entry> files, long mtimeSeconds, int fileMode, int dirMode) {
    this(files, mtimeSeconds, fileMode, dirMode, Map.of());
  }

  /**
   * @param rootAttributes read-only extended attributes of the root directory, by full name (e.g.
   *     {@code user.vmafs.status}), each made when asked for
   */
  public ReadOnlyFs(List<Entry> files, long mtimeSeconds, int fileMode, int dirMode,
      Map<String, java.util.function.Supplier<byte[]>> rootAttributes) {
    this.rootAttributes = Map.copyOf(rootAttributes);
    this.files = List.copyOf(files);
    Map<String, Integer> m = new LinkedHashMap<>();
    for (int i = 0; i < this.files.size(); i++) {
      if (m.put(this.files.get(i).name(), i) != null) {
        throw new IllegalArgumentException("duplicate file name: " + this.files.get(i).name());
      }
    }
    this.byName = Collections.unmodifiableMap(m);
    this.mtimeSeconds = mtimeSeconds;
    this.fileMode = fileMode & 07777;
    this.dirMode = dirMode & 07777;
  }

  private final Map<String, java.util.function.Supplier<byte[]>> rootAttributes;

  /**
   * {@code getxattr}: the value of a root attribute copied into {@code dst} (or only its length
   * when {@code dst} has no room at all, as the call's size-0 probe asks), or a negative errno:
   * {@code ENODATA} for anything else, {@code ERANGE} when the value does not fit.
   */
  public int getxattr(Node node, String name, java.nio.ByteBuffer dst) {
    java.util.function.Supplier<byte[]> s = node.isRoot() ? rootAttributes.get(name) : null;
    if (s == null) {
      return -Errno.ENODATA;
    }
    byte[] v = s.get();
    if (dst == null || dst.capacity() == 0) {
      return v.length;
    }
    if (dst.remaining() < v.length) {
      return -Errno.ERANGE;
    }
    dst.put(v);
    return v.length;
  }

  public List<Entry> files() {
    return files;
  }

  /** Resolves an absolute path of the mount, or returns null (ENOENT). */
  public Node lookup(String path) {
    if (path.equals("/") || path.isEmpty()) {
      return ROOT;
    }
    String name = path.startsWith("/") ? path.substring(1) : path;
    Integer i = byName.get(name);
    return i == null ? null : new Node(i, files.get(i));
  }

  /** The node behind a handle returned by {@link #open}. */
  public Node node(long handle) {
    if (handle < 0 || handle >= files.size()) {
      return null;
    }
    return new Node((int) handle, files.get((int) handle));
  }

  public Attr getattr(Node node) {
    if (node.isRoot()) {
      return new Attr(ROOT_INODE, S_IFDIR | dirMode, 2, 0, 0, mtimeSeconds);
    }
    ImageContent c = node.file().content();
    // Inode numbers follow the file order, which is fixed by the archive: stable across mounts.
    return new Attr(node.handle() + 2L, S_IFREG | fileMode, 1, c.size(),
        (c.allocatedBytes() + 511) / 512, mtimeSeconds);
  }

  /** Names in the root directory, without "." and "..". */
  public List<String> list() {
    return new ArrayList<>(byName.keySet());
  }

  /**
   * Checks the open flags of a file: anything that could write is refused.
   *
   * @return the handle (≥ 0) or a negative errno
   */
  public long open(Node node, int flags) {
    if (node.isRoot()) {
      return -Errno.EISDIR;
    }
    int accmode = flags & 03; // O_ACCMODE
    if (accmode != 0 || (flags & 01000) != 0 /* O_TRUNC */) {
      return -Errno.EROFS;
    }
    return node.handle();
  }

  /**
   * {@code access(2)}: nothing is writable; read and execute are granted when the mode has the
   * bit for anyone, as the modes of an image mount are meant to be uniform across owner, group and
   * others.
   *
   * @return 0 or a negative errno
   */
  public int access(Node node, int mask) {
    if ((mask & W_OK) != 0) {
      return -Errno.EROFS;
    }
    int mode = getattr(node).mode();
    if ((mask & R_OK) != 0 && (mode & 0444) == 0 || (mask & X_OK) != 0 && (mode & 0111) == 0) {
      return -Errno.EACCES;
    }
    return 0;
  }

  /** Totals for {@code df}: the allocated bytes of all files, nothing free. */
  public FsStats statfs() {
    long allocated = 0;
    for (Entry e : files) {
      allocated += e.content().allocatedBytes();
    }
    return new FsStats(STATFS_BLOCK_SIZE, (allocated + STATFS_BLOCK_SIZE - 1) / STATFS_BLOCK_SIZE,
        files.size() + 1L, NAME_MAX);
  }

  /**
   * Reads into {@code dst} (at most its remaining bytes).
   *
   * @return bytes read, or a negative errno; an I/O failure of the content is logged and reported
   *     as EIO rather than as short or wrong data
   */
  public int read(Node node, long offset, ByteBuffer dst) {
    if (node.isRoot()) {
      return -Errno.EISDIR;
    }
    if (offset < 0) {
      return -Errno.EINVAL;
    }
    try {
      return node.file().content().read(offset, dst);
    } catch (IOException | RuntimeException e) {
      log.error("read of {} at offset {} ({} bytes) failed: {}", node.file().name(), offset,
          dst.remaining(), e.toString());
      return -Errno.EIO;
    }
  }

  /**
   * {@code lseek} for SEEK_DATA and SEEK_HOLE (the kernel handles the others itself, but they are
   * answered too).
   *
   * @return the new offset or a negative errno (ENXIO past the last data or past end of file)
   */
  public long lseek(Node node, long offset, int whence) {
    if (node.isRoot()) {
      return -Errno.EISDIR;
    }
    ImageContent c = node.file().content();
    try {
      switch (whence) {
        case SEEK_SET:
          return offset < 0 ? -Errno.EINVAL : offset;
        case SEEK_END:
          return c.size() + offset < 0 ? -Errno.EINVAL : c.size() + offset;
        case SEEK_DATA: {
          if (offset < 0) {
            return -Errno.ENXIO;
          }
          if (offset >= c.size()) {
            return -Errno.ENXIO;
          }
          long d = c.nextData(offset);
          return d < 0 ? -Errno.ENXIO : d;
        }
        case SEEK_HOLE: {
          if (offset < 0 || offset >= c.size()) {
            return -Errno.ENXIO;
          }
          return c.nextHole(offset);
        }
        default:
          return -Errno.EINVAL;
      }
    } catch (IOException | RuntimeException e) {
      log.error("lseek of {} at offset {} failed: {}", node.file().name(), offset, e.toString());
      return -Errno.EIO;
    }
  }
}
