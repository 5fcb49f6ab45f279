package vmafs.vma;

/**
 * The archive's bytes break the format: names the field and the archive offset where it was read.
 */
public final class MalformedArchiveException extends VmaException {
  private static final long serialVersionUID = 1L;
  private final String field;
  private final long offset;

  public MalformedArchiveException(String field, long offset, String reason) {
    super(field + " at offset " + offset + ": " + reason);
    this.field = field;
    this.offset = offset;
  }

  /** The format field that is wrong, e.g. {@code "extent header md5"}. */
  public String field() {
    return field;
  }

  /** Byte offset in the (uncompressed) archive stream where the bad field starts. */
  public long offset() {
    return offset;
  }

  /** Throws unless {@code condition} holds. */
  public static void check(boolean condition, String field, long offset, String reason)
      throws MalformedArchiveException {
    if (!condition) {
      throw new MalformedArchiveException(field, offset, reason);
    }
  }
}
