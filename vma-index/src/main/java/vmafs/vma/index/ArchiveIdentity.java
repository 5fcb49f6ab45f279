package vmafs.vma.index;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * What ties a saved index to one archive file: its size and mtime, and a fingerprint of its first
 * and last 64 KiB (so a foreign archive of the same size, or an archive copied with a new mtime,
 * is told apart from the right one without reading it all).
 */
public record ArchiveIdentity(long size, long mtimeMillis, byte[] fingerprint) {
  private static final int SAMPLE = 64 * 1024;

  public ArchiveIdentity {
    fingerprint = fingerprint.clone();
  }

  @Override
  public byte[] fingerprint() {
    return fingerprint.clone();
  }

  /**
   * A placeholder for an index embedded in its own archive, which cannot know the file it ends up
   * in; it matches no archive until {@link IndexFile#adopt} replaces it.
   */
  public static final ArchiveIdentity EMBEDDED = new ArchiveIdentity(-1, 0, new byte[32]);

  public static ArchiveIdentity of(Path archive) throws IOException {
    long size = Files.size(archive);
    long mtime = Files.getLastModifiedTime(archive).toMillis();
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    try (FileChannel ch = FileChannel.open(archive)) {
      sample(ch, 0, sha);
      sample(ch, Math.max(0, size - SAMPLE), sha);
    }
    sha.update(ByteBuffer.allocate(8).putLong(0, size));
    return new ArchiveIdentity(size, mtime, sha.digest());
  }

  /**
   * The identity of an archive read through {@code stored} (a remote object: its version is in the
   * index's location, so {@code mtimeMillis} is 0 there), from two 64 KiB reads.
   */
  public static ArchiveIdentity of(vmafs.vma.io.StoredBytes stored, long mtimeMillis)
      throws IOException {
    long size = stored.size();
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    for (long pos : new long[] {0, Math.max(0, size - SAMPLE)}) {
      ByteBuffer b = ByteBuffer.allocate((int) Math.min(SAMPLE, size - pos));
      stored.readFully(pos, b);
      sha.update(b.flip());
    }
    sha.update(ByteBuffer.allocate(8).putLong(0, size));
    return new ArchiveIdentity(size, mtimeMillis, sha.digest());
  }

  private static void sample(FileChannel ch, long pos, MessageDigest sha) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(SAMPLE);
    while (b.hasRemaining()) {
      int n = ch.read(b, pos + b.position());
      if (n < 0) {
        break;
      }
    }
    b.flip();
    sha.update(b);
  }

  /** Why {@code saved} does not describe this archive, or null if it does. */
  public String mismatch(ArchiveIdentity saved, boolean ignoreMtime) {
    if (saved.size != size) {
      return "archive size changed (" + saved.size + " -> " + size + ")";
    }
    if (!Arrays.equals(saved.fingerprint, fingerprint)) {
      return "archive content differs (another archive, or it was rewritten)";
    }
    if (!ignoreMtime && saved.mtimeMillis != mtimeMillis) {
      return "archive modification time changed (use --ignore-mtime for a copied archive)";
    }
    return null;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ArchiveIdentity a && a.size == size && a.mtimeMillis == mtimeMillis
        && Arrays.equals(a.fingerprint, fingerprint);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(size) * 31 + Arrays.hashCode(fingerprint);
  }

}
