package vmafs.source;

/**
 * Told how far a decode pass has got through the compressed file, so that the CLI can draw a bar
 * with throughput and ETA. Called from the thread reading the pass's stream, often (every few
 * hundred KiB), so implementations should be cheap and throttle their own output.
 */
@FunctionalInterface
public interface ProgressListener {
  ProgressListener NONE = (done, total) -> {};

  void progress(long compressedBytesDone, long compressedBytesTotal);
}
