package vmafs.archive;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import vmafs.vma.io.FileTrust;

/**
 * Where an archive's saved index, its spill file and the lock of its index pass live: beside the
 * archive ({@code <archive>.vmafs-index}, {@code <archive>.spill}) when that directory is one
 * nobody but the invoking user or root can write to ({@link FileTrust}) and it is writable, else
 * in {@code $XDG_CACHE_HOME/vmafs/} (default {@code ~/.cache/vmafs/}, created 0700) under names
 * that start with a hash of the archive's absolute path. The spill and the lock are named after
 * the index, so they follow it wherever it goes, and nothing stored in an index says where they
 * are.
 *
 * @param index the saved index
 * @param spill the spill file of a compressed archive that cannot be read at random
 * @param lock held while a pass builds the index (and spill), so concurrent passes wait
 */
public record IndexLocation(Path index, Path spill, Path lock) {
  private static final Logger log = LoggerFactory.getLogger(IndexLocation.class);
  public static final String SUFFIX = ".vmafs-index";
  public static final String SPILL_SUFFIX = ".spill";
  public static final String LOCK_SUFFIX = ".lock";

  /** The location of an index file at {@code index} (e.g. {@code --index-file}). */
  public static IndexLocation at(Path index) {
    Path abs = index.toAbsolutePath().normalize();
    String name = abs.getFileName().toString();
    String base = name.endsWith(SUFFIX) ? name.substring(0, name.length() - SUFFIX.length()) : name;
    return new IndexLocation(abs, abs.resolveSibling(base + SPILL_SUFFIX),
        abs.resolveSibling(name + LOCK_SUFFIX));
  }

  /** Beside the archive, whether or not that directory may be used. */
  public static IndexLocation beside(Path archive) {
    Path abs = archive.toAbsolutePath().normalize();
    return at(abs.resolveSibling(abs.getFileName() + SUFFIX));
  }

  /** In the cache directory {@code cacheDir}, named after the archive's absolute path. */
  static IndexLocation inCache(Path cacheDir, Path archive) {
    Path abs = archive.toAbsolutePath().normalize();
    return at(cacheDir.resolve(shortHash(abs.toString()) + "-" + abs.getFileName() + SUFFIX));
  }

  /** The directory holding the index (and the spill and lock). */
  public Path directory() {
    return index.getParent();
  }

  /**
   * Why the archive's own directory must not hold its index, or null if it may: it must be
   * trusted ({@link FileTrust}) and writable. (An index in a trusted directory this user cannot
   * write, made by root say, is still read.)
   */
  public static String whyNotBeside(Path archive) {
    Path dir = archive.toAbsolutePath().normalize().getParent();
    try {
      String why = FileTrust.untrustedDirectory(dir);
      if (why != null) {
        return why;
      }
    } catch (IOException e) {
      return "cannot check " + dir + ": " + e.getMessage();
    }
    return Files.isWritable(dir) ? null : dir + " is not writable";
  }

  /**
   * The per-user cache directory for indexes and spill files, created 0700 if missing, or null if
   * none is safe: {@code $XDG_CACHE_HOME/vmafs}, else {@code ~/.cache/vmafs} of the user vmafs runs
   * as (the home directory comes from the password database, not {@code $HOME}), whichever first
   * passes {@link FileTrust#untrustedDirectory}. Under {@code sudo -E}, {@code $XDG_CACHE_HOME} is
   * another user's, who could plant a forged index there: it is then skipped with a warning.
   */
  public static Path cacheDir() {
    List<Path> candidates = new ArrayList<>();
    String xdg = System.getenv("XDG_CACHE_HOME");
    if (xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute()) {
      candidates.add(Path.of(xdg).resolve("vmafs"));
    }
    candidates.add(Path.of(System.getProperty("user.home"), ".cache", "vmafs"));
    for (Path dir : candidates) {
      try {
        if (!Files.isDirectory(dir)) {
          Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(
              PosixFilePermissions.fromString("rwx------")));
        }
        String why = FileTrust.untrustedDirectory(dir);
        if (why == null) {
          return dir;
        }
        log.warn("not using the cache directory {}: {}", dir, why);
      } catch (IOException e) {
        log.warn("cannot use the cache directory {}: {}", dir, e.toString());
      }
    }
    return null;
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
