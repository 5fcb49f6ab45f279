package vmafs.remote;

import java.time.Duration;

/**
 * How often and how patiently a failed request is tried again. Retries are bounded twice: per
 * request ({@code maxAttempts}), and per archive by a budget that each retry spends and each
 * success refills by one, so that a dead network or a failing server costs a few seconds and a
 * handful of requests, not one retry series per piece (no retry storm).
 *
 * @param maxAttempts attempts per request, the first included (1 = never retry)
 * @param firstDelay back-off before the first retry; doubles each time, with jitter
 * @param maxDelay cap of one back-off
 * @param budget retries that may be spent before a success refills the budget
 */
public record RetryPolicy(int maxAttempts, Duration firstDelay, Duration maxDelay, int budget) {
  public RetryPolicy {
    if (maxAttempts < 1 || maxAttempts > 20) {
      throw new IllegalArgumentException("maxAttempts must be 1-20, not " + maxAttempts);
    }
    if (firstDelay.isNegative() || maxDelay.compareTo(firstDelay) < 0) {
      throw new IllegalArgumentException("delays must satisfy 0 <= firstDelay <= maxDelay");
    }
    if (budget < 0) {
      throw new IllegalArgumentException("budget must be >= 0");
    }
  }

  /** Four attempts, 200 ms, 400 ms, 800 ms apart (±50 %); at most 10 retries without a success. */
  public static RetryPolicy defaults() {
    return new RetryPolicy(4, Duration.ofMillis(200), Duration.ofSeconds(3), 10);
  }

  /** Back-off before retry number {@code retry} (1-based), before jitter. */
  Duration delay(int retry) {
    long ms = firstDelay.toMillis() << Math.min(retry - 1, 20);
    return Duration.ofMillis(Math.min(ms, maxDelay.toMillis()));
  }
}
