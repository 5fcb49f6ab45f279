package vmafs.nbd;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The reply buffers of all connections: direct slabs of {@link #SLAB_SIZE}, reserved when a
 * request is accepted and returned when its reply has been written, never more than the capacity
 * at once. Direct, because an image read into a direct buffer and a socket write from it copy the
 * bytes once each (a heap array costs a bounce copy on both sides). Slabs are kept for reuse up to
 * the capacity: allocating (and zeroing) 256 KiB per request would cost more than serving it.
 */
final class BufferPool {
  static final int SLAB_SIZE = 256 << 10;

  private final int capacity;
  private final ArrayDeque<ByteBuffer> free = new ArrayDeque<>();
  private final List<Runnable> waiters = new ArrayList<>();
  private int reserved;
  private int allocated;

  BufferPool(long capacityBytes) {
    this.capacity = (int) Math.min(Integer.MAX_VALUE, capacityBytes / SLAB_SIZE);
  }

  /** Slabs for {@code bytes} of payload. */
  static int slabsFor(long bytes) {
    return (int) ((bytes + SLAB_SIZE - 1) / SLAB_SIZE);
  }

  /**
   * Reserves {@code n} slabs, or registers {@code onFree} to be run (once) when slabs are
   * returned and answers false.
   */
  synchronized boolean tryReserve(int n, Runnable onFree) {
    if (reserved + n <= capacity) {
      reserved += n;
      return true;
    }
    waiters.add(onFree);
    return false;
  }

  /** A cleared slab out of a reservation made before. */
  ByteBuffer take() {
    synchronized (this) {
      ByteBuffer b = free.pollFirst();
      if (b != null) {
        return b.clear();
      }
      allocated++;
    }
    return ByteBuffer.allocateDirect(SLAB_SIZE);
  }

  /** Returns slabs taken before, and their reservation. */
  void give(List<ByteBuffer> slabs) {
    unreserve(slabs.size(), slabs);
  }

  /** Gives back a reservation whose slabs were never taken. */
  void unreserve(int n) {
    unreserve(n, List.of());
  }

  private void unreserve(int n, List<ByteBuffer> slabs) {
    if (n == 0) {
      return;
    }
    List<Runnable> wake;
    synchronized (this) {
      free.addAll(slabs);
      reserved -= n;
      if (waiters.isEmpty()) {
        return;
      }
      wake = new ArrayList<>(waiters);
      waiters.clear();
    }
    wake.forEach(Runnable::run);
  }

  synchronized long reservedBytes() {
    return (long) reserved * SLAB_SIZE;
  }

  /** Direct memory this pool holds (allocated slabs, free or in use). */
  synchronized long allocatedBytes() {
    return (long) allocated * SLAB_SIZE;
  }
}
