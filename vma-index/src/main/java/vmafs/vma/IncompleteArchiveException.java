package vmafs.vma;

/**
 * The archive is well formed but would not restore completely: clusters are missing, duplicated or
 * lie beyond a device's end.
 */
public final class IncompleteArchiveException extends VmaException {
  private static final long serialVersionUID = 1L;

  public IncompleteArchiveException(String message) {
    super(message);
  }
}
