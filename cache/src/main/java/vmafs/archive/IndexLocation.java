package vmafs.archive;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Where an archive's saved index lives: beside the archive as {@code <archive>.vmafs-index} when
 * that directory is writable, else in {@code $XDG_CACHE_HOME/vmafs/} (default
 * {@code ~/.cache/vmafs/}) under a name derived from the archive's absolute path.
 */
public final class IndexLocation {
  public static final String SUFFIX = ".vmafs-index";

  private IndexLocation() {}

  public static Path forArchive(Path archive) {
    Path abs = archive.toAbsolutePath().normalize();
    Path dir = abs.getParent();
    if (dir != null && Files.isWritable(dir)) {
      return abs.resolveSibling(abs.getFileName() + SUFFIX);
    }
    return cacheDir().resolve(shortHash(abs.toString()) + "-" + abs.getFileName() + SUFFIX);
  }

  /** The per-user cache directory for indexes and spill files. */
  public static Path cacheDir() {
    String xdg = System.getenv("XDG_CACHE_HOME");
    Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg)
        : Path.of(System.getProperty("user.home"), ".cache");
    return base.resolve("vmafs");
  }

  private static String shortHash(String s) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
