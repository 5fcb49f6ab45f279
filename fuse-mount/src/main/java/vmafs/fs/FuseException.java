package vmafs.fs;

/**
 * A mount or unmount that could not be done. The message is one line, fit to show the user as is
 * (what failed, on which path, and what to do about it where that is known).
 */
public final class FuseException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public FuseException(String message) {
    super(message);
  }

  public FuseException(String message, Throwable cause) {
    super(message, cause);
  }
}
