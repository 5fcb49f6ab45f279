package vmafs.vma.io;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** An uncompressed {@code .vma} file read with positional reads ({@code pread}); thread-safe. */
public final class FileArchiveSource implements ArchiveSource {
  private final Path path;
  private final FileChannel channel;

  private FileArchiveSource(Path path, FileChannel channel) {
    this.path = path;
    this.channel = channel;
  }

  public static FileArchiveSource open(Path path) throws IOException {
    return new FileArchiveSource(path, FileChannel.open(path, StandardOpenOption.READ));
  }

  @Override
  public void readFully(long position, ByteBuffer dst) throws IOException {
    long pos = position;
    while (dst.hasRemaining()) {
      int n = channel.read(dst, pos);
      if (n < 0) {
        throw new EOFException(
            path + ": unexpected end of file at offset " + pos + " (wanted " + dst.remaining()
                + " more bytes); was the archive truncated or replaced?");
      }
      pos += n;
    }
  }

  @Override
  public long size() throws IOException {
    return channel.size();
  }

  @Override
  public String name() {
    return path.toString();
  }

  /** The underlying channel, for sequential scanning during index builds. */
  public FileChannel channel() {
    return channel;
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
