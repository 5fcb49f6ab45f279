package vmafs.vma.image;

import static vmafs.vma.VmaFormat.BLOCK_SIZE;

import java.io.IOException;
import java.nio.ByteBuffer;
import vmafs.vma.DeviceInfo;
import vmafs.vma.index.DeviceIndex;
import vmafs.vma.index.LiveIndex;
import vmafs.vma.io.ArchiveSource;

/**
 * A device image whose index is still being built ({@link LiveIndex}): reads wait for the clusters
 * they need (see {@link LiveIndex#entry} for the rules), and once the pass has completed, reads of
 * a complete device go to the finished {@link DeviceImage}.
 *
 * <p>Holes: while the pass runs, no region is final — VMA lists clusters in the order a live backup
 * produced them, so a cluster not listed yet may come last, and one listed as zeros may be listed
 * again with data. {@link #nextData} and {@link #nextHole} therefore report the rest of the image
 * as data until the pass ends (never a hole that might turn out to be data; a copy started now
 * reads zeros it could have skipped), and exactly from the finished index after.
 * {@link #allocatedBytes} and {@link #knownStoredBytes} count the blocks listed so far.
 */
public final class GrowingImage {
  private final DeviceInfo info;
  private final LiveIndex index;
  private final ArchiveSource source;
  private volatile DeviceImage finished;
  /** Whether reads may go straight to {@link #finished}: complete, nothing missing or conflicting. */
  private volatile boolean direct;

  public GrowingImage(DeviceInfo info, LiveIndex index, ArchiveSource source) {
    this.info = info;
    this.index = index;
    this.source = source;
  }

  public DeviceInfo info() {
    return info;
  }

  /**
   * The device size. For the legacy vmstate stream the written length is known only at the end;
   * until then this is its registered size.
   */
  public long size() {
    DeviceImage f = finishedImage();
    return f != null ? f.size() : info.size();
  }

  public long allocatedBytes() {
    return index.storedBlocks(info.id()) * BLOCK_SIZE;
  }

  public int read(long offset, ByteBuffer dst) throws IOException {
    DeviceImage f = finishedImage();
    if (f != null && direct) {
      return f.read(offset, dst);
    }
    long size = f != null ? f.size() : info.size();
    return DeviceImage.read(c -> index.entry(info.id(), c), size, source, offset, dst);
  }

  public long nextData(long offset) {
    DeviceImage f = finishedImage();
    if (f != null) {
      return f.nextData(offset);
    }
    return offset < info.size() ? Math.max(0, offset) : -1;
  }

  public long nextHole(long offset) {
    DeviceImage f = finishedImage();
    if (f != null) {
      return f.nextHole(offset);
    }
    return info.size();
  }

  public long storedBytes(long from, long to) {
    DeviceImage f = finishedImage();
    if (f != null) {
      return f.storedBytes(from, to);
    }
    return Math.max(0, Math.min(to, info.size()) - Math.max(0, from));
  }

  /**
   * Bytes of {@code [from, to)} in blocks listed as stored so far, in whole 4 KiB blocks: what the
   * {@code st_blocks} of part of the image (a partition) counts while the pass runs. It only grows
   * until the pass ends (a cluster listed again replaces its blocks), and unlike {@link
   * #storedBytes} it never counts what is not known yet: that is data to {@code SEEK_DATA}, but
   * no allocated block to {@code du}. Exact from the finished index after a complete pass.
   */
  public long knownStoredBytes(long from, long to) {
    DeviceImage f = finishedImage();
    if (f != null) {
      return f.storedBytes(from, to);
    }
    long start = Math.max(0, from);
    long end = Math.min(to, info.size());
    if (start >= end) {
      return 0;
    }
    return index.storedBlocks(info.id(), start / BLOCK_SIZE, (end - 1) / BLOCK_SIZE + 1) * BLOCK_SIZE;
  }

  /** Whether the pass is over: from now on the allocation does not change. */
  public boolean settled() {
    return index.state() != LiveIndex.State.INDEXING;
  }

  /** The finished image once the pass completed, else null. */
  private DeviceImage finishedImage() {
    DeviceImage f = finished;
    if (f == null && index.state() == LiveIndex.State.COMPLETE) {
      DeviceIndex d = index.result().devices().stream().filter(x -> x.info().id() == info.id())
          .findFirst().orElseThrow();
      f = new DeviceImage(d, source);
      direct = d.stats().missingClusters() == 0 && index.lateDuplicates() == 0;
      finished = f;
    }
    return f;
  }
}
