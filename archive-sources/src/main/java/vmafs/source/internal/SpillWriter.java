package vmafs.source.internal;

import java.io.Closeable;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import vmafs.vma.io.AtomicFile;

/**
 * Writes the decompressed stream to a new file under an unguessable temporary name ({@link
 * AtomicFile}: nothing planted beside the archive is ever written through) and renames it to
 * {@code target} only once the pass has verified the archive and the data is on disk, so a crash
 * or a corrupt archive never leaves a spill file that looks complete. A CRC-32C of every 64 KiB is
 * recorded as the data passes, for {@link SpillFile} to check on every read.
 *
 * <p>The decode pass is CPU-bound on one core and the spill is a second copy of everything it
 * produces, so the writes run on their own thread: the caller fills 1 MiB direct buffers and hands
 * them over, and a writer thread writes them and starts writeback every {@link #SYNC_INTERVAL}
 * bytes, so that the final {@code fsync} before the rename has little left to wait for. Measured on
 * the 1 GiB benchmark archive (docs/benchmarks.md): the pass took 2.3–2.5 s with the writes on the
 * decoding thread and one {@code fsync} at the end, 1.8–2.1 s now; the decode alone takes ~1.5 s.
 */
public final class SpillWriter implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(SpillWriter.class);
  /** Leave this much free so a spill never fills the disk the user's system lives on. */
  static final long MIN_FREE_BYTES = 64L << 20;
  /** Re-check free space this often; cheaper than waiting for ENOSPC and clearer. */
  private static final long FREE_SPACE_CHECK_INTERVAL = 256L << 20;
  /** Flush to disk this often while writing; bounds what the final fsync waits for. */
  static final long SYNC_INTERVAL = 64L << 20;
  private static final int BUFFER_SIZE = 1 << 20;
  /** Buffers in flight: enough to ride out a periodic fdatasync without stalling the decoder. */
  private static final int BUFFERS = 16;
  private static final ByteBuffer END = ByteBuffer.allocate(0);

  private final Path target;
  private final AtomicFile file;
  private final Path partial;
  private final long spillMax;
  private final String archiveName;
  private final FileChannel channel;
  /** On the writer thread, which sees every byte in order. */
  private final ChunkChecksums.Recorder chunks = new ChunkChecksums.Recorder(SpillFile.CHUNK);
  private final BlockingQueue<ByteBuffer> free;
  private final BlockingQueue<ByteBuffer> full;
  private final Thread writer;
  private volatile Throwable writeFailure;
  /** Bytes the writer thread has written to the file (readable by pread), for reads during the pass. */
  private volatile long onDisk;
  private volatile Runnable onWritten = () -> {};
  private final AtomicBoolean syncing = new AtomicBoolean();
  private Thread oldSpillRemoval;
  private ByteBuffer current;
  private long written;
  private long nextSpaceCheck;
  private boolean finished;
  private boolean committed;

  private SpillWriter(Path target, AtomicFile file, long spillMax, String archiveName) {
    this.target = target;
    this.file = file;
    this.partial = file == null ? null : file.temporary();
    this.spillMax = spillMax;
    this.archiveName = archiveName;
    this.channel = file == null ? null : file.channel();
    this.nextSpaceCheck = FREE_SPACE_CHECK_INTERVAL;
    if (channel == null) {
      free = full = null;
      writer = null;
      return;
    }
    free = new ArrayBlockingQueue<>(BUFFERS);
    full = new ArrayBlockingQueue<>(BUFFERS + 1);
    for (int i = 0; i < BUFFERS; i++) {
      free.add(ByteBuffer.allocateDirect(BUFFER_SIZE));
    }
    writer = new Thread(this::writeLoop, "vmafs-spill-writer");
    writer.setDaemon(true);
    writer.start();
  }

  /** @param permissions the spill's mode: the archive's or stricter (it holds the archive's data) */
  static SpillWriter create(Path target, long spillMax, String archiveName,
      Set<PosixFilePermission> permissions) throws IOException {
    Files.createDirectories(target.getParent());
    long usable = Files.getFileStore(target.getParent()).getUsableSpace();
    if (usable < MIN_FREE_BYTES) {
      throw new IOException(archiveName + " must be decompressed to a spill file in "
          + target.getParent() + ", but only " + mib(usable) + " MiB are free there");
    }
    log.info("{}: cannot be read at random; spilling the decompressed stream to {}", archiveName,
        target);
    SpillWriter w = new SpillWriter(target, AtomicFile.create(target, permissions), spillMax,
        archiveName);
    if (Files.exists(target)) {
      // A spill from an earlier pass is stale now. Freeing a GiB-sized file takes ext4 ~0.2 s, which
      // the rename in commit() would otherwise spend after the pass; do it on the idle core now.
      w.oldSpillRemoval = new Thread(() -> {
        try {
          Files.deleteIfExists(target);
        } catch (IOException e) {
          log.debug("could not remove the old spill {}: {}", target, e.toString());
        }
      }, "vmafs-spill-cleanup");
      w.oldSpillRemoval.setDaemon(true);
      w.oldSpillRemoval.start();
    }
    return w;
  }

  /** A spill that keeps nothing, for stream-only passes (list, verify, extract). */
  static SpillWriter discarding() {
    return new SpillWriter(null, null, Long.MAX_VALUE, "");
  }

  /** Fails now rather than hours later if {@code upperBound} more bytes cannot fit. */
  void checkRoom(long upperBound) throws IOException {
    if (partial == null) {
      return;
    }
    long needed = upperBound - written;
    if (upperBound > spillMax) {
      throw new IOException(archiveName + ": the spill file may need up to " + mib(upperBound)
          + " MiB, more than the spill limit of " + mib(spillMax) + " MiB");
    }
    long usable = Files.getFileStore(partial.getParent()).getUsableSpace();
    if (needed > usable - MIN_FREE_BYTES) {
      throw new IOException(archiveName + ": the spill file may need up to " + mib(needed)
          + " MiB more in " + partial.getParent() + ", but only " + mib(usable) + " MiB are free");
    }
  }

  public void write(byte[] b, int off, int len) throws IOException {
    if (written + len > spillMax) {
      throw new IOException(archiveName + ": spill file exceeds the spill limit of "
          + mib(spillMax) + " MiB at uncompressed offset " + written
          + "; raise the limit or convert the archive to seekable zstd");
    }
    if (channel == null) {
      written += len;
      return;
    }
    if (written + len >= nextSpaceCheck) {
      nextSpaceCheck += FREE_SPACE_CHECK_INTERVAL;
      long usable = Files.getFileStore(partial.getParent()).getUsableSpace();
      if (usable < MIN_FREE_BYTES) {
        throw new IOException(archiveName + ": stopped spilling to " + partial + " after "
            + mib(written) + " MiB: only " + mib(usable) + " MiB left on that file system");
      }
    }
    while (len > 0) {
      if (current == null) {
        current = takeFree();
      }
      int n = Math.min(len, current.remaining());
      current.put(b, off, n);
      off += n;
      len -= n;
      written += n;
      if (!current.hasRemaining()) {
        submit(current);
        current = null;
      }
    }
  }

  long written() {
    return written;
  }

  /** Bytes already in the file: what {@link #partialReader} can serve. */
  public long onDisk() {
    return onDisk;
  }

  /** Run on the writer thread after each buffer reached the file. */
  void onWritten(Runnable r) {
    this.onWritten = r;
  }

  /**
   * Positional reads of the file being written, for reads while the pass runs. Opened on the
   * temporary name, inside the private directory {@link AtomicFile} made (nobody else can reach
   * it): the descriptor stays valid after the rename, and after a failed pass removed the file.
   */
  vmafs.vma.io.ArchiveSource partialReader() throws IOException {
    return vmafs.vma.io.FileArchiveSource.open(partial);
  }

  /** Waits for the writer, syncs and renames the spill into place. */
  SpillFile commit() throws IOException {
    finish();
    if (oldSpillRemoval != null) {
      join(oldSpillRemoval); // it must not remove the new spill after the rename
    }
    file.commit(true);
    committed = true;
    log.info("{}: spill file {} complete, {} MiB", archiveName, target, mib(written));
    return SpillFile.of(target, written, chunks.finish());
  }

  /** Hands the last buffer over, stops the writer and reports its failure, if any. */
  private void finish() throws IOException {
    if (finished) {
      return;
    }
    finished = true;
    if (current != null && current.position() > 0) {
      submit(current);
    }
    current = null;
    submit(END);
    join(writer);
    checkWriter();
  }

  private static void join(Thread t) throws InterruptedIOException {
    try {
      t.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while finishing the spill file");
    }
  }

  private void submit(ByteBuffer b) throws IOException {
    checkWriter();
    try {
      full.put(b);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while spilling");
    }
  }

  /** Polls, so that a writer that failed meanwhile is noticed instead of waited for. */
  private ByteBuffer takeFree() throws IOException {
    try {
      while (true) {
        checkWriter();
        ByteBuffer b = free.poll(100, TimeUnit.MILLISECONDS);
        if (b != null) {
          return b;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while spilling");
    }
  }

  private void checkWriter() throws IOException {
    Throwable t = writeFailure;
    if (t != null) {
      throw new IOException(archiveName + ": writing the spill file " + partial + " failed: " + t,
          t);
    }
  }

  private void writeLoop() {
    long sinceSync = 0;
    try {
      while (true) {
        ByteBuffer b = full.take();
        if (b == END) {
          return;
        }
        b.flip();
        chunks.update(b.duplicate());
        while (b.hasRemaining()) {
          int n = channel.write(b);
          sinceSync += n;
          onDisk += n; // this thread is its only writer
        }
        onWritten.run();
        b.clear();
        free.put(b);
        if (sinceSync >= SYNC_INTERVAL && syncing.compareAndSet(false, true)) {
          // Writes back what is dirty now instead of leaving a whole stream for the final fsync.
          // On its own thread: an fdatasync of 64 MiB takes ~25 ms here, long enough to stall the
          // decoder if the writer waited for it.
          sinceSync = 0;
          Thread sync = new Thread(this::syncNow, "vmafs-spill-sync");
          sync.setDaemon(true);
          sync.start();
        }
      }
    } catch (Throwable t) {
      // The producer sees it at its next hand-over: takeFree() polls, and full never blocks (it
      // has room for every buffer plus END).
      writeFailure = t;
    }
  }

  private void syncNow() {
    try {
      channel.force(false);
    } catch (java.nio.channels.ClosedChannelException e) {
      // The pass ended (committed with its own fsync, or failed): nothing left to do.
    } catch (Throwable t) {
      writeFailure = t;
    } finally {
      syncing.set(false);
    }
  }

  /** Stops the writer and removes the partial file unless {@link #commit} succeeded. */
  @Override
  public void close() throws IOException {
    if (committed || channel == null) {
      return;
    }
    try {
      if (!finished) {
        finished = true;
        writer.interrupt();
        try {
          writer.join(10_000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    } finally {
      file.close();
    }
  }

  private static long mib(long bytes) {
    return bytes >> 20;
  }
}
