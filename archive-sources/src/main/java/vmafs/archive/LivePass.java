package vmafs.archive;

import java.io.Closeable;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import vmafs.vma.VmaHeader;
import vmafs.vma.index.LiveIndex;
import vmafs.vma.io.StoredBytes;

/**
 * An archive whose index pass runs in the background ({@link ArchiveOpener#start}): its header is
 * known, its images can be read through {@link #index()} and {@link #source()} (reads wait for what
 * they need, see {@link LiveIndex}), and {@link #done()} completes with the opened {@link Archive}
 * (index saved) or with the reason the pass failed.
 */
public final class LivePass implements Closeable {
  private final StoredBytes stored;
  private final VmaHeader header;
  private final String compression;
  private final LiveIndex index;
  private final GuardedSource source;
  private final vmafs.vma.io.ArchiveSource unguarded;
  private final PassProgress progress;
  private final CompletableFuture<Archive> done = new CompletableFuture<>();
  private volatile Thread thread;
  private volatile boolean closing;

  LivePass(StoredBytes stored, VmaHeader header, String compression, LiveIndex index,
      vmafs.vma.io.ArchiveSource source, PassProgress progress) {
    this.stored = stored;
    this.header = header;
    this.compression = compression;
    this.index = index;
    this.source = new GuardedSource(source);
    this.unguarded = source;
    this.progress = progress;
  }

  void start(Runnable body) {
    Thread t = new Thread(body, "vmafs-index-pass");
    t.setDaemon(true);
    thread = t;
    t.start();
  }

  /** Whether {@link #close} stopped the pass (its failure then is no news). */
  boolean closing() {
    return closing;
  }

  CompletableFuture<Archive> future() {
    return done;
  }

  /** The archive as stored; owned by the pass until it hands it to the {@link Archive}. */
  public StoredBytes stored() {
    return stored;
  }

  public VmaHeader header() {
    return header;
  }

  /** "none", "zstd", "lzop", "gzip". */
  public String compression() {
    return compression;
  }

  public LiveIndex index() {
    return index;
  }

  /** The uncompressed stream, readable as far as the pass has decoded it (reads wait for the rest). */
  public GuardedSource source() {
    return source;
  }

  /** Reads of listed clusters waiting for the pass to decode their data, now. */
  public int readsWaitingForData() {
    return unguarded instanceof vmafs.source.LiveSource l ? l.waitingReads() : 0;
  }

  public PassProgress progress() {
    return progress;
  }

  /** Completes with the archive once the pass ended cleanly, or exceptionally with why it failed. */
  public CompletableFuture<Archive> done() {
    return done;
  }

  /**
   * Stops a pass still running (its thread is interrupted; the decode fails at its next read) and
   * waits for it; then the archive, if the pass completed, is closed.
   */
  @Override
  public void close() throws IOException {
    closing = true;
    Thread t = thread;
    if (t != null && t.isAlive()) {
      t.interrupt();
      try {
        t.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    try {
      source.close();
    } finally {
      Archive a = done.isDone() && !done.isCompletedExceptionally() ? done.join() : null;
      if (a != null) {
        a.close(); // and the stored archive with it
      } else {
        stored.close();
      }
    }
  }
}
