package vmafs.remote;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Where the saved index of a remote archive goes: nowhere beside the object (the store is read-only
 * to vmafs), so in the per-user cache,
 * {@code $XDG_CACHE_HOME/vmafs/remote/<hash>-<file name>.vmafs-index} (default
 * {@code ~/.cache/vmafs/remote/}). The hash is SHA-256 over the archive's display name and its
 * version tag (ETag), so a replaced object gets a new file and never meets the old index, and the
 * same object reached again (another mount, another machine's cache copied over) finds its index.
 * The file name part is only for people listing the directory.
 */
public final class RemoteIndexLocation {
  public static final String SUFFIX = ".vmafs-index";
  private static final int NAME_MAX = 80;

  private RemoteIndexLocation() {}

  /** For {@link RemoteStoredBytes}: its {@code name()} and {@code versionTag()}. */
  public static Path forObject(String displayName, String versionTag) {
    return cacheDir().resolve("remote").resolve(hash(displayName, versionTag) + "-" + fileName(displayName) + SUFFIX);
  }

  /**
   * The same place relative to the cache directory, {@code remote/<hash>-<file name>.vmafs-index},
   * for the opener, which resolves it against the cache directory it has checked.
   */
  public static String relative(String displayName, String versionTag) {
    return "remote/" + hash(displayName, versionTag) + "-" + fileName(displayName) + SUFFIX;
  }

  static Path cacheDir() {
    String xdg = System.getenv("XDG_CACHE_HOME");
    Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
    return base.resolve("vmafs");
  }

  static String hash(String displayName, String versionTag) {
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      d.update(displayName.getBytes(StandardCharsets.UTF_8));
      d.update((byte) 0);
      d.update(versionTag.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d.digest(), 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The last path segment, reduced to characters that are safe in a file name. */
  public static String fileName(String displayName) {
    String s = displayName;
    int q = s.indexOf('?');
    if (q >= 0) {
      s = s.substring(0, q);
    }
    s = s.substring(s.lastIndexOf('/') + 1);
    s = s.replaceAll("[^A-Za-z0-9._-]", "_").replaceAll("^\\.+", "_");
    if (s.isEmpty()) {
      s = "archive";
    }
    return s.length() > NAME_MAX ? s.substring(s.length() - NAME_MAX) : s;
  }
}
