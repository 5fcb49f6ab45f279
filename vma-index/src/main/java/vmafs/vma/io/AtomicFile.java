package vmafs.vma.io;

import java.io.Closeable;
import java.io.IOException;
import java.nio.channels.FileChannel;
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
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Set;

/**
 * Creates a file the one way that is safe in a directory someone else may write to, and every file
 * vmafs writes goes through here: exclusively ({@code O_CREAT|O_EXCL}, which never follows a link,
 * plus {@code O_NOFOLLOW}) under an unguessable temporary name beside the target, then renamed into
 * place. A link planted under the final name (or any predictable one) is never written through:
 * {@code rename} replaces the directory entry itself. Until {@link #commit} the final name is
 * untouched; {@link #close} without a commit removes the temporary file.
 *
 * <pre>{@code
 * try (AtomicFile f = AtomicFile.create(target, FileTrust.privatePermissions())) {
 *   f.channel().write(...);
 *   f.commit();
 * }
 * }</pre>
 */
public final class AtomicFile implements Closeable {
  private static final SecureRandom RANDOM = new SecureRandom();
  /** 96 random bits: nobody guesses the name before it exists. */
  private static final int RANDOM_BYTES = 12;
  /** Room for the dot, the random part and the suffix within NAME_MAX (255 bytes). */
  private static final int MAX_NAME_PART = 200;
  private static final OpenOption[] CREATE = {StandardOpenOption.CREATE_NEW,
      StandardOpenOption.READ, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS};

  private final Path target;
  private final Path temporary;
  private final FileChannel channel;
  private boolean committed;
  private boolean closed;

  private AtomicFile(Path target, Path temporary, FileChannel channel) {
    this.target = target;
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
    byte[] r = new byte[RANDOM_BYTES];
    RANDOM.nextBytes(r);
    Path tmp = dir.resolve("." + base + "." + HexFormat.of().formatHex(r) + ".tmp");
    FileChannel ch = FileChannel.open(tmp, Set.of(CREATE),
        PosixFilePermissions.asFileAttribute(permissions));
    return new AtomicFile(abs, tmp, ch);
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
        Files.deleteIfExists(temporary);
      }
    }
  }
}
