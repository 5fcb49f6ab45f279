package vmafs.vma.io;

import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NotDirectoryException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Creates a file the one way that is safe in a directory someone else may write to, and every file
 * vmafs writes goes through here: exclusively ({@code O_CREAT|O_EXCL}, which never follows a link,
 * plus {@code O_NOFOLLOW}) inside a new private directory (mode 0700, unguessable name) beside the
 * target, then renamed into place. A link planted under the final name (or any predictable one) is
 * never written through: {@code rename} replaces the directory entry itself. Nobody else can
 * reach the temporary file, so it cannot be swapped for another before it is renamed. Until
 * {@link #commit} the final name is untouched; {@link #close} without a commit removes the
 * temporary file and its directory.
 *
 * <pre>{@code
 * try (AtomicFile f = AtomicFile.create(target, FileTrust.privatePermissions())) {
 *   f.channel().write(...);
 *   f.commit();
 * }
 * }</pre>
 */
public final class AtomicFile implements Closeable {
  /** Room for the dot and the random part within NAME_MAX (255 bytes). */
  private static final int MAX_NAME_PART = 200;
  private static final OpenOption[] CREATE = {StandardOpenOption.CREATE_NEW,
      StandardOpenOption.READ, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS};

  private final Path target;
  private final Path privateDir;
  private final Path temporary;
  private final FileChannel channel;
  private boolean committed;
  private boolean closed;

  private AtomicFile(Path target, Path privateDir, Path temporary, FileChannel channel) {
    this.target = target;
    this.privateDir = privateDir;
    this.temporary = temporary;
    this.channel = channel;
  }

  /**
   * Creates the temporary file for {@code target} in the target's directory, which must exist.
   *
   * @param permissions the mode to create it with (the umask may remove more)
   */
  public static AtomicFile create(Path target, Set<PosixFilePermission> permissions)
      throws IOException {
    Path abs = target.toAbsolutePath();
    Path dir = abs.getParent();
    if (!Files.isDirectory(dir)) {
      throw Files.exists(dir) ? new NotDirectoryException(dir.toString())
          : new java.nio.file.NoSuchFileException(dir.toString());
    }
    String base = truncate(abs.getFileName().toString());
    // mkdir with a SecureRandom name and mode 0700; it fails rather than follow anything planted.
    Path privateDir = Files.createTempDirectory(dir, "." + base + ".");
    try {
      Path tmp = privateDir.resolve(base);
      FileChannel ch = FileChannel.open(tmp, Set.of(CREATE),
          PosixFilePermissions.asFileAttribute(permissions));
      return new AtomicFile(abs, privateDir, tmp, ch);
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(privateDir);
      throw e;
    }
  }

  /**
   * Removes what writers of {@code target} that were killed before {@link #commit} or {@link
   * #close} left behind: their private directories and the one file each holds. Only for a caller
   * that knows no other writer of {@code target} is running (the index pass, under its lock). A
   * directory holding anything else is left alone.
   */
  public static void removeAbandoned(Path target) throws IOException {
    Path abs = target.toAbsolutePath();
    String base = truncate(abs.getFileName().toString());
    String prefix = "." + base + ".";
    try (DirectoryStream<Path> s = Files.newDirectoryStream(abs.getParent(), p -> {
      String n = p.getFileName().toString();
      return n.startsWith(prefix) && n.length() > prefix.length()
          && n.substring(prefix.length()).chars().allMatch(Character::isDigit); // createTempDirectory's
    })) {
      for (Path d : s) {
        if (Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) {
          try {
            Files.deleteIfExists(d.resolve(base));
            Files.delete(d);
          } catch (java.nio.file.DirectoryNotEmptyException e) {
            // not only what an AtomicFile leaves: not ours to remove
          }
        }
      }
    }
  }

  private static String truncate(String name) {
    byte[] b = name.getBytes(StandardCharsets.UTF_8);
    if (b.length <= MAX_NAME_PART) {
      return name;
    }
    int cut = MAX_NAME_PART;
    while (cut > 0 && (b[cut] & 0xC0) == 0x80) {
      cut--; // not inside a UTF-8 sequence
    }
    return new String(b, 0, cut, StandardCharsets.UTF_8);
  }

  /** Where the file will be once committed. */
  public Path target() {
    return target;
  }

  /** The temporary name the file has until {@link #commit}. */
  public Path temporary() {
    return temporary;
  }

  /** Open for reading and writing. */
  public FileChannel channel() {
    return channel;
  }

  /**
   * A stream appending to the file; closing it leaves the file open for {@link #commit} (which
   * may still sync it).
   */
  public OutputStream outputStream() {
    return new OutputStream() {
      @Override
      public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(b, off, len);
        while (buf.hasRemaining()) {
          channel.write(buf);
        }
      }
    };
  }

  /**
   * Extends the file to {@code size} as one hole. FileChannel can only shrink a file; mapping a
   * byte past the end makes the JDK extend it with {@code ftruncate}, which allocates nothing. The
   * mapping is never touched, so a full disk cannot fault through it.
   */
  public void extendTo(long size) throws IOException {
    if (size > channel.size()) {
      channel.map(FileChannel.MapMode.READ_WRITE, size - 1, 1);
    }
  }

  /** {@link #commit(boolean)} without an fsync (for files that are caches or get one later). */
  public void commit() throws IOException {
    commit(false);
  }

  /**
   * Closes the file and renames it to its final name, replacing what was there.
   *
   * @param sync whether to make the data durable first
   */
  public void commit(boolean sync) throws IOException {
    if (sync) {
      channel.force(true);
    }
    channel.close();
    Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE);
    committed = true;
    Files.deleteIfExists(privateDir);
  }

  /** Removes the temporary file unless {@link #commit} succeeded. */
  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    if (!committed) {
      try {
        channel.close();
      } finally {
        try {
          Files.deleteIfExists(temporary);
        } finally {
          Files.deleteIfExists(privateDir);
        }
      }
    }
  }
}
