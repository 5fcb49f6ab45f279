package vmafs.remote;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs requests under one {@link RetryPolicy}, with the budget shared by all of an archive's requests. */
final class Retrier {
  private static final Logger log = LoggerFactory.getLogger(Retrier.class);

  /** One request; throws {@link RemoteAccessException} to say whether a retry may help. */
  interface Call<T> {
    T run() throws IOException;
  }

  private final RetryPolicy policy;
  private final TransferCounters counters;
  private final AtomicInteger budget;

  Retrier(RetryPolicy policy, TransferCounters counters) {
    this.policy = policy;
    this.counters = counters;
    this.budget = new AtomicInteger(policy.budget());
  }

  <T> T run(String what, Call<T> call) throws IOException {
    for (int attempt = 1; ; attempt++) {
      T result;
      try {
        result = call.run();
      } catch (RemoteAccessException e) {
        if (!e.retryable()) {
          throw attempt == 1 ? e : e.afterAttempts(attempt, "");
        }
        if (attempt >= policy.maxAttempts()) {
          throw e.afterAttempts(attempt, "");
        }
        if (!spend()) {
          throw e.afterAttempts(attempt, "; too many recent failures to retry more");
        }
        long ms = jitter(policy.delay(attempt).toMillis());
        counters.retry();
        log.info("{}: {}; retrying in {} ms (attempt {} of {})", what, e.getMessage(), ms, attempt + 1,
            policy.maxAttempts());
        sleep(ms);
        continue;
      }
      refill();
      return result;
    }
  }

  private boolean spend() {
    return budget.getAndUpdate(b -> b > 0 ? b - 1 : 0) > 0;
  }

  private void refill() {
    budget.getAndUpdate(b -> Math.min(policy.budget(), b + 1));
  }

  /** Equal jitter: half the delay fixed, half random, so that parallel requests spread out. */
  private static long jitter(long ms) {
    return ms / 2 + (ms > 1 ? ThreadLocalRandom.current().nextLong(ms - ms / 2) : 0);
  }

  private static void sleep(long ms) throws InterruptedIOException {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting to retry");
    }
  }
}
