package vmafs.nbd.tls;

import java.io.IOException;

/** A certificate, key or CA file that cannot be used, with the file and the reason in the message. */
public final class CredentialsException extends IOException {
  private static final long serialVersionUID = 1L;

  public CredentialsException(String message) {
    super(message);
  }

  public CredentialsException(String message, Throwable cause) {
    super(message, cause);
  }
}
