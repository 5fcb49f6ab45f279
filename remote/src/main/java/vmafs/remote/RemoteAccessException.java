package vmafs.remote;

import java.io.IOException;

/**
 * A remote archive could not be read: one line that names the object and says what went wrong and,
 * where there is one, what to do. The CLI reports it as an environment error (exit 5).
 *
 * <p>{@link #retryable()} tells the retrier whether trying again can help (a 5xx answer, a refused
 * or dropped connection, a timeout) or cannot (a missing key, denied access, a changed object).
 */
public final class RemoteAccessException extends IOException {
  private static final long serialVersionUID = 1L;

  /** What went wrong, coarsely, for callers that react differently (the FUSE edge maps all to EIO). */
  public enum Reason {
    /** No such key, or no such URL (404). */
    NOT_FOUND,
    /** The bucket does not exist. */
    NO_SUCH_BUCKET,
    /** The server refused the credentials or the request (401, 403). */
    ACCESS_DENIED,
    /** The credentials were valid once and are no longer (an expired session token). */
    EXPIRED_CREDENTIALS,
    /** No credentials could be found by the SDK's default chain or the named profile. */
    NO_CREDENTIALS,
    /** The bucket lives in another region than the one the request was signed for. */
    WRONG_REGION,
    /** No connection, a dropped connection, a timeout. Retryable. */
    NETWORK,
    /** The server failed (5xx) or asked to slow down (429, 503). Retryable. */
    SERVER_ERROR,
    /** The server sends whole bodies for Range requests, so it cannot serve random reads. */
    RANGE_IGNORED,
    /** The object is not the one that was opened: its ETag (or date) changed, or If-Match failed. */
    CHANGED,
    /** An answer vmafs cannot use (wrong range, length, status), or a request the server rejects. */
    BAD_RESPONSE
  }

  private final String object;
  private final Reason reason;

  public RemoteAccessException(String object, Reason reason, String detail) {
    this(object, reason, detail, null);
  }

  public RemoteAccessException(String object, Reason reason, String detail, Throwable cause) {
    super(object + ": " + detail, cause);
    this.object = object;
    this.reason = reason;
  }

  /** The object as named in messages (its URL, without any query string). */
  public String object() {
    return object;
  }

  public Reason reason() {
    return reason;
  }

  /** Whether a later attempt of the same request may succeed. */
  public boolean retryable() {
    return reason == Reason.NETWORK || reason == Reason.SERVER_ERROR;
  }

  /** The same failure, saying how many attempts were made before giving up. */
  RemoteAccessException afterAttempts(int attempts, String why) {
    String detail = getMessage().substring(object.length() + 2);
    return new RemoteAccessException(object, reason,
        detail + " (gave up after " + attempts + (attempts == 1 ? " attempt" : " attempts") + why + ")", this);
  }
}
