package vmafs.source.zstd;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import vmafs.source.internal.FileReads;
import vmafs.vma.index.IndexSection;

/**
 * The stored (compressed) prefixes of zstd restart points, one after another: appended by the
 * decode pass as points are accepted, read back by random reads. Up to 3 % of the archive, so a
 * pass keeps them in a scratch file (created exclusively and unlinked at once, so nothing is left
 * behind whatever happens), and a loaded index serves them from its mapped section. Appends come
 * from one thread; reads may come from many, also while the pass still appends.
 */
abstract class PrefixStore implements Closeable {

  /** Appends {@code b}; returns the offset it was stored at. */
  abstract long append(byte[] b) throws IOException;

  /** Reads {@code dst.remaining()} bytes at {@code offset}. */
  abstract void read(long offset, ByteBuffer dst) throws IOException;

  abstract long size();

  /** Streams everything stored into {@code out} (to save it with the index). */
  abstract void writeTo(OutputStream out) throws IOException;

  @Override
  public void close() throws IOException {}

  byte[] read(long offset, int len) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(len);
    read(offset, b);
    return b.array();
  }

  /** Kept on the heap: for passes without a cache directory (tests, small archives). */
  static PrefixStore inMemory() {
    return new Heap();
  }

  /** Kept in an unlinked scratch file in {@code dir}. */
  static PrefixStore scratch(Path dir, String archiveName) throws IOException {
    Files.createDirectories(dir);
    Path p = Files.createTempFile(dir, ".vmafs-restart-", ".tmp"); // O_EXCL, mode 0600
    FileChannel ch;
    try {
      ch = FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE);
    } finally {
      Files.deleteIfExists(p);
    }
    return new Scratch(ch, archiveName);
  }

  /** The prefixes saved with an index. */
  static PrefixStore of(IndexSection section) {
    return new Saved(section);
  }

  private static final class Heap extends PrefixStore {
    private byte[] data = new byte[1 << 16];
    private int size;

    @Override
    synchronized long append(byte[] b) {
      if (size + b.length > data.length) {
        data = java.util.Arrays.copyOf(data, Math.max(2 * data.length, size + b.length));
      }
      System.arraycopy(b, 0, data, size, b.length);
      long at = size;
      size += b.length;
      return at;
    }

    @Override
    synchronized void read(long offset, ByteBuffer dst) throws IOException {
      if (offset < 0 || offset > size - dst.remaining()) {
        throw new EOFException("restart prefix at " + offset + " is past the stored prefixes");
      }
      dst.put(data, (int) offset, dst.remaining());
    }

    @Override
    synchronized long size() {
      return size;
    }

    @Override
    synchronized void writeTo(OutputStream out) throws IOException {
      out.write(data, 0, size);
    }
  }

  private static final class Scratch extends PrefixStore {
    private final FileChannel ch;
    private final String archiveName;
    private volatile long size;

    Scratch(FileChannel ch, String archiveName) {
      this.ch = ch;
      this.archiveName = archiveName;
    }

    @Override
    synchronized long append(byte[] b) throws IOException {
      long at = size;
      ByteBuffer buf = ByteBuffer.wrap(b);
      while (buf.hasRemaining()) {
        ch.write(buf, at + buf.position());
      }
      size = at + b.length;
      return at;
    }

    @Override
    void read(long offset, ByteBuffer dst) throws IOException {
      if (offset < 0 || offset > size - dst.remaining()) {
        throw new EOFException(archiveName + ": restart prefix at " + offset
            + " is past the stored prefixes");
      }
      FileReads.readFully(ch, archiveName + " (restart prefixes)", offset, dst);
    }

    @Override
    long size() {
      return size;
    }

    @Override
    void writeTo(OutputStream out) throws IOException {
      long n = size;
      long done = 0;
      var target = Channels.newChannel(out);
      while (done < n) {
        done += ch.transferTo(done, n - done, target);
      }
    }

    @Override
    public void close() throws IOException {
      ch.close();
    }
  }

  private static final class Saved extends PrefixStore {
    private final IndexSection section;

    Saved(IndexSection section) {
      this.section = section;
    }

    @Override
    long append(byte[] b) {
      throw new UnsupportedOperationException("saved restart prefixes are read-only");
    }

    @Override
    void read(long offset, ByteBuffer dst) throws IOException {
      section.read(offset, dst);
    }

    @Override
    long size() {
      return section.length();
    }

    @Override
    void writeTo(OutputStream out) throws IOException {
      byte[] b = new byte[1 << 20];
      for (long at = 0; at < section.length(); at += b.length) {
        int k = (int) Math.min(b.length, section.length() - at);
        section.read(at, ByteBuffer.wrap(b, 0, k));
        out.write(b, 0, k);
      }
    }
  }
}
