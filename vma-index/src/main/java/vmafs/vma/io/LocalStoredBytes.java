package vmafs.vma.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;

/** A local archive file read with {@code pread}; the first {@link StoredBytes}. */
public final class LocalStoredBytes implements StoredBytes {
  private final Path path;
  private final FileChannel channel;
  private final long size;
  private final String versionTag;
  private final long mtimeMillis;
  private final Object fileKey;

  private LocalStoredBytes(Path path, FileChannel channel, long size, String versionTag,
      long mtimeMillis, Object fileKey) {
    this.path = path;
    this.channel = channel;
    this.size = size;
    this.versionTag = versionTag;
    this.mtimeMillis = mtimeMillis;
    this.fileKey = fileKey;
  }

  public static LocalStoredBytes open(Path path) throws IOException {
    FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
    try {
      BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
      String tag = "file:" + a.fileKey() + ":" + a.size() + ":" + a.lastModifiedTime().toInstant();
      return new LocalStoredBytes(path, ch, ch.size(), tag, a.lastModifiedTime().toMillis(),
          a.fileKey());
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  public Path path() {
    return path;
  }

  /** The open channel, for code that maps parts of the file. */
  public FileChannel channel() {
    return channel;
  }

  @Override
  public String name() {
    return path.toString();
  }

  @Override
  public long size() {
    return size;
  }

  @Override
  public String versionTag() {
    return versionTag;
  }

  @Override
  public int read(long position, ByteBuffer dst) throws IOException {
    if (!dst.hasRemaining()) {
      return 0;
    }
    return channel.read(dst, position);
  }

  /** A jump, not a read: skipping the data of an extent costs nothing. */
  @Override
  public InputStream openScan(long position, int bufferSize) throws IOException {
    return new ChannelInputStream(channel, position, bufferSize);
  }

  /** Size, modification time and file (device and inode) as when opened: a stat, no read. */
  @Override
  public String changed() throws IOException {
    BasicFileAttributes a;
    try {
      a = Files.readAttributes(path, BasicFileAttributes.class);
    } catch (IOException e) {
      return "the archive can no longer be read (" + e.getMessage() + ")";
    }
    if (a.size() != size) {
      return "the archive's size changed since it was mounted";
    }
    if (a.lastModifiedTime().toMillis() != mtimeMillis) {
      return "the archive was modified since it was mounted";
    }
    if (fileKey != null && !fileKey.equals(a.fileKey())) {
      return "the archive file was replaced since it was mounted";
    }
    return null;
  }

  @Override
  public boolean cheapScatteredReads() {
    return true;
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
