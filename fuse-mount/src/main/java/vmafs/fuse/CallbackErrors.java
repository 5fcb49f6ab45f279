package vmafs.fuse;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import vmafs.fs.Errno;

/**
 * The answer of a callback that threw. An exception must never leave a callback: on a libfuse
 * thread jffi swallows it and the C caller reads garbage, on our own loop threads it unwinds
 * through libfuse and kills the worker (docs/fuse.md §4). The reader gets EIO instead.
 */
public final class CallbackErrors {
  private static final Logger log = LoggerFactory.getLogger(CallbackErrors.class);

  private CallbackErrors() {}

  /** Logs the failure of {@code operation} and returns {@code -EIO}. */
  public static int eio(String operation, Throwable t) {
    log.error("FUSE {} failed; answering EIO", operation, t);
    return -Errno.EIO;
  }
}
