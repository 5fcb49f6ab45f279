package vmafs.vma.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/** An uncompressed {@code .vma} file read with positional reads ({@code pread}); thread-safe. */
public final class FileArchiveSource implements ArchiveSource {
  private final LocalStoredBytes file;
  private final StoredSource source;

  private FileArchiveSource(LocalStoredBytes file) {
    this.file = file;
    this.source = new StoredSource(file);
  }

  public static FileArchiveSource open(Path path) throws IOException {
    return new FileArchiveSource(LocalStoredBytes.open(path));
  }

  @Override
  public void readFully(long position, ByteBuffer dst) throws IOException {
    source.readFully(position, dst);
  }

  @Override
  public long size() throws IOException {
    return file.channel().size();
  }

  @Override
  public String name() {
    return file.name();
  }

  /** The underlying channel, for sequential scanning during index builds. */
  public FileChannel channel() {
    return file.channel();
  }

  @Override
  public void close() throws IOException {
    file.close();
  }
}
