package vmafs.vma;

import java.io.IOException;

/**
 * A problem with an archive's contents (as opposed to the machine): malformed bytes or an
 * archive that would not restore completely. The message is one line meant for the user.
 */
public class VmaException extends IOException {
  private static final long serialVersionUID = 1L;

  public VmaException(String message) {
    super(message);
  }
}
