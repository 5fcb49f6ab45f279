package vmafs.source.zstd;

import com.github.luben.zstd.ZstdDecompressCtx;
import java.io.Closeable;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * Reusable decompression contexts for random reads. A context holds native buffers, so creating
 * one per read would cost more than small frames take to decode; a thread-local would tie them to
 * FUSE threads that we do not own. The pool keeps at most {@code max} idle contexts.
 */
final class ZstdContextPool implements Closeable {
  private final ConcurrentLinkedDeque<ZstdDecompressCtx> idle = new ConcurrentLinkedDeque<>();
  private final int max;
  private volatile boolean closed;

  ZstdContextPool(int max) {
    this.max = max;
  }

  ZstdDecompressCtx borrow() {
    ZstdDecompressCtx ctx = idle.pollFirst();
    return ctx != null ? ctx : new ZstdDecompressCtx();
  }

  void release(ZstdDecompressCtx ctx) {
    ctx.reset();
    if (closed || idle.size() >= max) {
      ctx.close();
    } else {
      idle.offerFirst(ctx);
    }
  }

  @Override
  public void close() {
    closed = true;
    ZstdDecompressCtx ctx;
    while ((ctx = idle.pollFirst()) != null) {
      ctx.close();
    }
  }
}
