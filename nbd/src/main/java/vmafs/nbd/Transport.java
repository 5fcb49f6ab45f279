package vmafs.nbd;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A connection's byte stream, plain or TLS, over a non-blocking socket. {@link #read} runs on the
 * I/O thread only; {@link #write}, {@link #flush} and {@link #wantsWrite} under the connection's
 * write lock, from the I/O thread or a worker. Nothing blocks.
 */
interface Transport {
  /**
   * Moves what has arrived into {@code dst}.
   *
   * @return bytes added to {@code dst} (0 if nothing is there yet), -1 at the end of the stream
   */
  int read(ByteBuffer dst) throws IOException;

  /**
   * Writes as much of {@code srcs} as the socket takes now.
   *
   * @return bytes of {@code srcs} consumed
   */
  long write(ByteBuffer[] srcs, int offset, int length) throws IOException;

  /**
   * Writes what the transport itself still holds (TLS records already sealed).
   *
   * @return true when nothing is left
   */
  boolean flush() throws IOException;

  /**
   * Whether bytes already taken from the socket wait here (decrypted or not), which no readiness
   * event will announce again.
   */
  boolean hasBufferedInput();

  /** Whether the transport wants to write although no reply is queued (TLS handshake, alerts). */
  boolean wantsWrite();

  /** Whether the transport can hold output of its own ({@link #wantsWrite}; TLS). */
  boolean buffersOutput();

  /** Ends the stream cleanly where the protocol has a way (a TLS close_notify), best effort. */
  void shutdownOutput();
}
