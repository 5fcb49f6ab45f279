package vmafs.vma.io;

import java.io.IOException;
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

  private LocalStoredBytes(Path path, FileChannel channel, long size, String versionTag) {
    this.path = path;
    this.channel = channel;
    this.size = size;
    this.versionTag = versionTag;
  }

  public static LocalStoredBytes open(Path path) throws IOException {
    FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
    try {
      BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
      String tag = "file:" + a.fileKey() + ":" + a.size() + ":" + a.lastModifiedTime().toInstant();
      return new LocalStoredBytes(path, ch, ch.size(), tag);
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

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
