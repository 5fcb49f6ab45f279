package vmafs.source;

import java.util.Objects;
import vmafs.vma.VmaException;

/**
 * The compressed layer of an archive is damaged or not what it claims: bad magic, a checksum that
 * does not match, corrupt compressed data, truncation, trailing garbage. Like
 * {@link vmafs.vma.MalformedArchiveException} it says where ({@link #where()}: the archive, the
 * structure and its number, the compressed offset) and what ({@link #problem()}); the message is
 * rendered from those. The CLI reports it as a malformed archive.
 */
public final class CorruptArchiveException extends VmaException {
  private static final long serialVersionUID = 1L;

  /** {@link Where#index()} or {@link Where#offset()} of damage that has none. */
  public static final long NONE = -1;

  /** The structure of a compressed archive that the damage is in. */
  public enum Part {
    ZSTD_FRAME("zstd frame"),
    ZSTD_BLOCK("zstd block"),
    /** A span decoded from a restart point inside a zstd frame (docs/design.md). */
    ZSTD_RESTART_SPAN("zstd restart span"),
    /** The seek table of a seekable zstd archive: its footer or its skippable-frame header. */
    ZSTD_SEEK_TABLE("zstd seek table"),
    /** One entry of that table, numbered as the frame it describes. */
    ZSTD_SEEK_ENTRY("zstd seek-table entry"),
    GZIP_MEMBER("gzip member"),
    /** A checkpoint of the gzip map: a restart point with its 32 KiB window. */
    GZIP_CHECKPOINT("gzip checkpoint"),
    LZOP_HEADER("lzop header"),
    LZOP_BLOCK("lzop block"),
    /** An independently decoded block of any format, numbered as its source's block table does. */
    BLOCK("block");

    private final String label;

    Part(String label) {
      this.label = label;
    }

    /** How the message names it, e.g. {@code "zstd frame"}. */
    public String label() {
      return label;
    }
  }

  /**
   * Where damage is: the archive (its name or path as given), the part and its number in the
   * archive (both optional), and the compressed offset where that part, or the bad field, starts.
   */
  public record Where(String archive, Part part, long index, long offset) {
    public Where {
      Objects.requireNonNull(archive, "archive");
      if (part == null && index != NONE) {
        throw new IllegalArgumentException("an index needs a part");
      }
    }

    /** At a compressed offset of the archive, not inside a numbered part. */
    public static Where at(String archive, long offset) {
      return new Where(archive, null, NONE, offset);
    }

    /** Part number {@code index} of the archive, which starts at compressed offset {@code offset}. */
    public static Where of(String archive, Part part, long index, long offset) {
      return new Where(archive, Objects.requireNonNull(part, "part"), index, offset);
    }

    /** The archive as a whole (no one offset is to blame). */
    public static Where archive(String archive) {
      return new Where(archive, null, NONE, NONE);
    }

    /** The place inside the archive, e.g. {@code "zstd frame #3 at compressed offset 4096"}; may be empty. */
    public String position() {
      StringBuilder s = new StringBuilder();
      if (part != null) {
        s.append(part.label);
        if (index != NONE) {
          s.append(" #").append(index);
        }
      }
      if (offset != NONE) {
        s.append(s.length() > 0 ? " " : "").append("at compressed offset ").append(offset);
      }
      return s.toString();
    }

    /** E.g. {@code "x.vma.zst: zstd frame #3 at compressed offset 4096"}. */
    @Override
    public String toString() {
      String p = position();
      return p.isEmpty() ? archive : archive + ": " + p;
    }
  }

  private final Where where;
  private final String problem;

  public CorruptArchiveException(Where where, String problem) {
    super(where + ": " + problem);
    this.where = where;
    this.problem = problem;
  }

  public CorruptArchiveException(Where where, String problem, Throwable cause) {
    this(where, problem);
    initCause(cause);
  }

  /** Throws unless {@code condition} holds. */
  public static void check(boolean condition, Where where, String problem) throws CorruptArchiveException {
    if (!condition) {
      throw new CorruptArchiveException(where, problem);
    }
  }

  public Where where() {
    return where;
  }

  /** What is wrong, without the where, e.g. {@code "content checksum mismatch"}. */
  public String problem() {
    return problem;
  }

  /** Shorthand for {@code where().archive()}. */
  public String archive() {
    return where.archive();
  }

  /** Shorthand for {@code where().offset()}: the compressed offset, or {@link #NONE}. */
  public long offset() {
    return where.offset();
  }
}
