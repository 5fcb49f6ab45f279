package vmafs.service;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import vmafs.archive.Archive;
import vmafs.archive.ArchiveOpener;
import vmafs.archive.GuardedSource;
import vmafs.archive.LivePass;
import vmafs.archive.PassProgress;
import vmafs.image.ImageContent;
import vmafs.vma.DeviceInfo;
import vmafs.vma.VmaHeader;
import vmafs.vma.image.DeviceImage;
import vmafs.vma.image.GrowingImage;
import vmafs.vma.index.LiveIndex;

/**
 * One archive for the life of a server: opened (header, identity, a saved or embedded index, or an
 * index pass started in the background), its device images served as {@link ImageContent} while
 * the pass runs and after, the end-of-pass rules applied ({@link LiveIndex}), the file watched for
 * changes ({@link ArchiveWatcher}), and closed after the front end drained its requests. Front ends
 * (the FUSE mount, the NBD server) get images and names from here and know nothing of VMA or
 * compression.
 */
public final class ArchiveService implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(ArchiveService.class);

  /** A device image with its device. */
  public record Image(DeviceInfo device, ImageContent content) {}

  /** Where the index is: {@code indexing}, {@code complete}, {@code failed}. */
  public enum PassState { INDEXING, COMPLETE, FAILED }

  /**
   * What {@code vmafs status} shows of one archive.
   *
   * @param error why the pass failed, else null
   * @param bytesDone archive bytes the pass has read (all of them once complete)
   * @param waitingReads reads waiting for the pass right now
   * @param waits reads that had to wait since the start
   * @param lateDuplicates clusters listed again after they had been read
   */
  /** @param archive the archive's absolute path, or its URL */
  public record Status(String archive, String compression, PassState state, String error,
      long bytesDone, long bytesTotal, double seconds, double bytesPerSecond, double etaSeconds,
      int waitingReads, long waits, long lateDuplicates, Path indexFile) {
    public double percent() {
      return bytesTotal == 0 ? 100 : Math.min(100, 100.0 * bytesDone / bytesTotal);
    }
  }

  private final vmafs.vma.io.StoredBytes stored;
  private final Archive ready;
  private final LivePass pass;
  private final List<Image> images;
  private ArchiveWatcher watcher;

  private ArchiveService(vmafs.vma.io.StoredBytes stored, Archive ready, LivePass pass) {
    this.stored = stored;
    this.ready = ready;
    this.pass = pass;
    List<Image> out = new ArrayList<>();
    if (ready != null) {
      for (DeviceImage img : ready.images()) {
        out.add(new Image(img.info(), new ImageFile(img, ready.source())));
      }
    } else {
      for (DeviceInfo d : pass.header().devices()) {
        out.add(new Image(d, new ImageFile(new GrowingImage(d, pass.index(), pass.source()),
            pass.source())));
      }
    }
    this.images = List.copyOf(out);
  }

  /** An archive that is indexed already (the commands that need the whole index first). */
  public static ArchiveService of(Archive archive) {
    return new ArchiveService(archive.stored(), archive, null);
  }

  /**
   * Opens {@code path}: with a saved or embedded index at once, else with an index pass in the
   * background that this service serves reads from while it runs.
   */
  public static ArchiveService start(Path path, ArchiveOpener opener, boolean partial)
      throws IOException {
    return start(vmafs.vma.io.LocalStoredBytes.open(path), opener, partial);
  }

  /** As {@link #start(Path, ArchiveOpener, boolean)} over the stored archive, which it owns. */
  public static ArchiveService start(vmafs.vma.io.StoredBytes stored, ArchiveOpener opener,
      boolean partial) throws IOException {
    ArchiveOpener.Started s = opener.start(stored, partial);
    return new ArchiveService(stored, s.ready(), s.pass());
  }

  /** The archive's path or URL, for messages. */
  public String name() {
    return stored.name();
  }

  /** The archive's file, or null for a remote archive. */
  public Path localPath() {
    return stored instanceof vmafs.vma.io.LocalStoredBytes local ? local.path() : null;
  }

  /** The archive as stored (its transfer counters, for a remote one). */
  public vmafs.vma.io.StoredBytes stored() {
    return stored;
  }

  /** The path made absolute, or the URL. */
  private String absoluteName() {
    Path p = localPath();
    return p == null ? stored.name() : p.toAbsolutePath().toString();
  }

  public VmaHeader header() {
    return ready != null ? ready.header() : pass.header();
  }

  /** The images, one per device in dev_id order. */
  public List<Image> images() {
    return images;
  }

  /** The opened archive once its index is complete (at once for a saved index). */
  public Optional<Archive> archive() {
    if (ready != null) {
      return Optional.of(ready);
    }
    var f = pass.done();
    return f.isDone() && !f.isCompletedExceptionally() ? Optional.of(f.join()) : Optional.empty();
  }

  /** Whether an index pass runs (or ran) in this service. */
  public boolean hasPass() {
    return pass != null;
  }

  /** Waits for the pass and returns the archive, or throws why the pass failed. */
  public Archive awaitPass() throws IOException, InterruptedException {
    if (ready != null) {
      return ready;
    }
    try {
      return pass.done().get();
    } catch (ExecutionException e) {
      throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
    } catch (CancellationException e) {
      throw new IOException("the index pass was stopped");
    }
  }

  /** The pass's progress, or null without a pass. */
  public PassProgress progress() {
    return pass == null ? null : pass.progress();
  }

  public Status status() {
    if (pass == null) {
      long size = sizeNow();
      return new Status(absoluteName(), ready.compression(), PassState.COMPLETE, null, size, size, 0, 0, -1,
          0, 0, 0, ready.indexFile());
    }
    LiveIndex idx = pass.index();
    PassState state = switch (idx.state()) {
      case INDEXING -> PassState.INDEXING;
      case COMPLETE -> PassState.COMPLETE;
      case FAILED -> PassState.FAILED;
    };
    PassProgress p = pass.progress();
    int waiting = idx.waitingReads() + pass.readsWaitingForData();
    return new Status(absoluteName(), pass.compression(), state,
        idx.failure() == null ? null : idx.failure().getMessage(), p.done(), p.total(),
        p.seconds(), p.bytesPerSecond(), p.etaSeconds(), waiting, idx.waits(),
        idx.lateDuplicates(), archive().map(Archive::indexFile).orElse(null));
  }

  /**
   * Starts checking once a second that the file is still the one opened; a change fails every
   * later read ({@link ArchiveWatcher}).
   */
  public void watch(Runnable onInvalid) throws IOException {
    watcher = ArchiveWatcher.start(stored, this::invalidate, onInvalid);
  }

  /** The size of the archive now (a local file may have changed), as {@code status} shows it. */
  private long sizeNow() {
    Path p = localPath();
    if (p != null) {
      return p.toFile().length();
    }
    try {
      return stored.size();
    } catch (IOException e) {
      return 0;
    }
  }

  /** Every later read fails with {@code why}. */
  public void invalidate(String why) {
    if (pass != null) {
      pass.source().invalidate(why);
    }
    archive().ifPresent(a -> a.invalidate(why));
  }

  /** The source reads go through, for checks of reads that never reach it. */
  GuardedSource guard() {
    return ready != null ? ready.source() : pass.source();
  }

  /** After the front end drained its requests: stops the watcher and a pass still running. */
  @Override
  public void close() throws IOException {
    if (watcher != null) {
      watcher.close();
    }
    if (pass != null) {
      if (pass.index().state() == LiveIndex.State.INDEXING) {
        log.info("{}: stopping the index pass (nothing is saved)", stored.name());
      }
      pass.close();
    } else {
      ready.close();
    }
  }
}
