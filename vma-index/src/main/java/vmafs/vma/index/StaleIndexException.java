package vmafs.vma.index;

import java.io.IOException;

/** A saved index file that must not be used: foreign, stale, truncated or corrupt. */
public final class StaleIndexException extends IOException {
  private static final long serialVersionUID = 1L;

  public StaleIndexException(String message) {
    super(message);
  }
}
