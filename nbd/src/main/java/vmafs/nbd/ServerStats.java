package vmafs.nbd;

/**
 * A snapshot of what the server holds, for logs and tests.
 *
 * @param connections open connections
 * @param handshaking of those, connections still negotiating
 * @param inFlight requests accepted and not yet answered (or answered and not yet written)
 * @param queuedBytes reply bytes waiting for clients to read them
 * @param bufferBytesReserved reply buffer bytes reserved by requests in flight
 * @param bufferBytesAllocated direct memory held by the reply buffer pool
 * @param refused connections closed at once because the server had its maximum
 */
public record ServerStats(int connections, int handshaking, long inFlight, long queuedBytes,
    long bufferBytesReserved, long bufferBytesAllocated, long refused) {}
