package vmafs.remote;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.regex.Pattern;
import vmafs.vma.io.LocalStoredBytes;
import vmafs.vma.io.StoredBytes;

/**
 * Where an ARCHIVE argument says the archive is: {@code s3://BUCKET/KEY}, an {@code http(s)://} URL,
 * or a local path. {@link #open} gives its {@link StoredBytes}.
 */
public sealed interface ArchiveLocation {
  /** {@code scheme://}: anything else is a path, even with a colon in it. */
  Pattern URL_LIKE = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]*://.*", Pattern.DOTALL);
  /** S3's bucket naming rules (3-63 characters; lower case, digits, dots, hyphens). */
  Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");

  /** What to call the archive in messages and in the saved index's key (no credentials in it). */
  String displayName();

  /** Opens the archive: a local file, or the first range request of a remote one. */
  StoredBytes open(RemoteOptions options) throws IOException;

  /** Whether the bytes come over the network (and the options apply). */
  default boolean remote() {
    return !(this instanceof Local);
  }

  /** A local file. */
  record Local(Path path) implements ArchiveLocation {
    @Override
    public String displayName() {
      return path.toString();
    }

    @Override
    public StoredBytes open(RemoteOptions options) throws IOException {
      return LocalStoredBytes.open(path);
    }
  }

  /** An object in S3 or an S3-compatible store; the key is taken literally (no %-decoding). */
  record S3(String bucket, String key) implements ArchiveLocation {
    @Override
    public String displayName() {
      return "s3://" + bucket + "/" + key;
    }

    @Override
    public StoredBytes open(RemoteOptions options) throws IOException {
      return S3StoredBytes.open(bucket, key, options);
    }
  }

  /** An http:// or https:// URL. */
  record Http(URI uri) implements ArchiveLocation {
    @Override
    public String displayName() {
      return ArchiveLocation.displayName(uri);
    }

    @Override
    public StoredBytes open(RemoteOptions options) throws IOException {
      return HttpStoredBytes.open(uri, options);
    }
  }

  /**
   * Parses an ARCHIVE argument.
   *
   * @throws IllegalArgumentException for a malformed or unsupported URL, saying what is wrong
   */
  static ArchiveLocation parse(String archive) {
    if (!URL_LIKE.matcher(archive).matches()) {
      return new Local(Path.of(archive));
    }
    String scheme = archive.substring(0, archive.indexOf(':')).toLowerCase(Locale.ROOT);
    switch (scheme) {
      case "s3": {
        String rest = archive.substring("s3://".length());
        int slash = rest.indexOf('/');
        if (slash <= 0 || slash == rest.length() - 1) {
          throw new IllegalArgumentException(archive + ": an S3 archive is s3://BUCKET/KEY");
        }
        String bucket = rest.substring(0, slash);
        if (!BUCKET.matcher(bucket).matches() || bucket.contains("..")) {
          throw new IllegalArgumentException(archive + ": '" + bucket + "' is not a valid bucket name"
              + " (3-63 characters: lower-case letters, digits, dots, hyphens)");
        }
        return new S3(bucket, rest.substring(slash + 1));
      }
      case "http":
      case "https": {
        URI uri;
        try {
          uri = new URI(archive);
        } catch (URISyntaxException e) {
          throw new IllegalArgumentException(archive + ": not a valid URL (" + e.getReason() + ")", e);
        }
        if (uri.getHost() == null) {
          throw new IllegalArgumentException(archive + ": the URL has no host");
        }
        if (uri.getRawUserInfo() != null) {
          throw new IllegalArgumentException(displayName(uri) + ": user names and passwords in URLs are not"
              + " supported (they would show in process lists); use a pre-signed URL or S3 credentials");
        }
        return new Http(uri);
      }
      default:
        throw new IllegalArgumentException(archive + ": unsupported URL scheme '" + scheme + "' (use s3://,"
            + " https://, http://, or a file path; ./" + archive + " for a file of that name)");
    }
  }

  /**
   * A URL as shown in messages and logs: scheme, host, port and path. A query string (the signature
   * of a pre-signed URL) shows as "?…"; it is a credential.
   */
  static String displayName(URI uri) {
    StringBuilder s = new StringBuilder().append(uri.getScheme()).append("://").append(uri.getHost());
    if (uri.getPort() >= 0) {
      s.append(':').append(uri.getPort());
    }
    s.append(uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath());
    if (uri.getRawQuery() != null) {
      s.append("?…");
    }
    return s.toString();
  }
}
