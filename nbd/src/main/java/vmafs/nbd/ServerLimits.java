package vmafs.nbd;

import java.time.Duration;

/**
 * What one client may cost the server, so that no client can exhaust it or stall the others: see
 * docs/design.md ("The NBD server") for how each bound is enforced.
 *
 * @param maxConnections connections open at once; more are closed as soon as they are accepted
 * @param maxInFlight requests of one connection being served or waiting to be written; the server
 *     stops reading a connection's requests while it has this many
 * @param replyBytesPerConnection reply buffers one connection may hold (being filled or waiting
 *     for the client to read them); at least one maximum-size read
 * @param bufferBytes reply buffers of all connections together
 * @param handshakeTimeout a connection that has not entered transmission (TLS included) by then is
 *     closed
 * @param replyTimeout a connection whose pending replies the client has not read any of for this
 *     long is closed
 * @param workers threads that read the images
 */
public record ServerLimits(int maxConnections, int maxInFlight, long replyBytesPerConnection,
    long bufferBytes, Duration handshakeTimeout, Duration replyTimeout, int workers) {

  /**
   * The largest read or block-status request served: the spec's default maximum payload, so a
   * client that never asks for size constraints gets the same as one that does.
   */
  public static final int MAX_PAYLOAD = 32 << 20;

  public ServerLimits {
    if (maxConnections < 1 || maxInFlight < 1 || workers < 1) {
      throw new IllegalArgumentException("connections, in-flight requests and workers must be positive");
    }
    if (replyBytesPerConnection < MAX_PAYLOAD + BufferPool.SLAB_SIZE) {
      throw new IllegalArgumentException("replyBytesPerConnection must hold a maximum-size read ("
          + (MAX_PAYLOAD + BufferPool.SLAB_SIZE) + " bytes)");
    }
    if (bufferBytes < replyBytesPerConnection) {
      throw new IllegalArgumentException("bufferBytes must be at least replyBytesPerConnection");
    }
    if (handshakeTimeout.isNegative() || handshakeTimeout.isZero()
        || replyTimeout.isNegative() || replyTimeout.isZero()) {
      throw new IllegalArgumentException("timeouts must be positive");
    }
  }

  /**
   * 1,024 connections; 64 requests in flight per connection (qemu keeps 16, nbdcopy 64); 48 MiB of
   * replies per connection and 256 MiB in all; 10 s to finish the handshake (as qemu-nbd); 60 s for
   * a client to read any of its pending replies; workers: twice the CPUs, 2 to 8 (reads block on
   * disk or decompression, so a few more than cores).
   */
  public static ServerLimits defaults() {
    int cpus = Runtime.getRuntime().availableProcessors();
    return new ServerLimits(1024, 64, 48L << 20, 256L << 20, Duration.ofSeconds(10),
        Duration.ofSeconds(60), Math.max(2, Math.min(8, 2 * cpus)));
  }

  public ServerLimits withMaxConnections(int n) {
    return new ServerLimits(n, maxInFlight, replyBytesPerConnection, bufferBytes, handshakeTimeout, replyTimeout, workers);
  }

  public ServerLimits withWorkers(int n) {
    return new ServerLimits(maxConnections, maxInFlight, replyBytesPerConnection, bufferBytes, handshakeTimeout, replyTimeout, n);
  }

  public ServerLimits withTimeouts(Duration handshake, Duration reply) {
    return new ServerLimits(maxConnections, maxInFlight, replyBytesPerConnection, bufferBytes, handshake, reply, workers);
  }

  public ServerLimits withBuffers(int inFlight, long perConnection, long total) {
    return new ServerLimits(maxConnections, inFlight, perConnection, total, handshakeTimeout, replyTimeout, workers);
  }
}
