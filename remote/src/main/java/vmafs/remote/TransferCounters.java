package vmafs.remote;

import java.util.concurrent.atomic.LongAdder;

/** The live counters behind {@link TransferStats}; updated from many fetch threads. */
final class TransferCounters {
  private final LongAdder requests = new LongAdder();
  private final LongAdder bytes = new LongAdder();
  private final LongAdder retries = new LongAdder();
  private final LongAdder cacheHits = new LongAdder();
  private final LongAdder piecesFetched = new LongAdder();
  private final LongAdder rangesFetched = new LongAdder();

  void request() {
    requests.increment();
  }

  void received(long n) {
    bytes.add(n);
  }

  void retry() {
    retries.increment();
  }

  void cacheHit() {
    cacheHits.increment();
  }

  void pieceFetched() {
    piecesFetched.increment();
  }

  /** A read outside any sequential run, fetched as exactly its range. */
  void rangeFetched() {
    rangesFetched.increment();
  }

  TransferStats snapshot() {
    return new TransferStats(requests.sum(), bytes.sum(), retries.sum(), cacheHits.sum(), piecesFetched.sum(),
        rangesFetched.sum());
  }
}
