package vmafs.source;

import vmafs.vma.VmaException;

/**
 * The compressed layer of an archive is damaged or not what it claims: bad magic, a checksum that
 * does not match, corrupt compressed data, truncation, trailing garbage. The message names the
 * compressed offset. The CLI reports it as a malformed archive.
 */
public final class CorruptArchiveException extends VmaException {
  private static final long serialVersionUID = 1L;

  public CorruptArchiveException(String message) {
    super(message);
  }

  public CorruptArchiveException(String message, Throwable cause) {
    super(message);
    initCause(cause);
  }
}
