package vmafs.vma.index;

import static vmafs.vma.VmaFormat.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import vmafs.vma.ConfigBlob;
import vmafs.vma.DeviceInfo;
import vmafs.vma.ExtentHeader;
import vmafs.vma.MalformedArchiveException;
import vmafs.vma.VmaHeader;
import vmafs.vma.io.ArchiveSource;

/**
 * Compares an index with the archive stream it claims to describe, for indexes vmafs did not just
 * build itself.
 *
 * <ul>
 *   <li>{@link #headerMismatch}: the VMA header, field by field (configs, devices, uuid, ctime).
 *       Cheap; made on every open of a saved index.
 *   <li>{@link #sample}: for an index that travelled inside its archive (a seekable .vma.zst's
 *       embedded index, written by whoever made the archive): the stream length, the first
 *       extents in order, and a random sample of stored clusters, each against the extent header
 *       that lists it. Not a proof, which only a full pass gives ({@code --reindex}), but an index
 *       that disagrees with the stream wherever it is looked at is refused.
 * </ul>
 */
public final class IndexCheck {
  /** How far back a sample reads at a time while it looks for its extent header. */
  private static final int SCAN_PIECE = 1 << 20;

  private IndexCheck() {}

  /** Why {@code actual} (read from the archive) is not the header {@code saved} records, or null. */
  public static String headerMismatch(VmaHeader saved, VmaHeader actual) {
    if (saved.version() != actual.version() || !Arrays.equals(saved.uuid(), actual.uuid())) {
      return "the archive's uuid differs from the index's";
    }
    if (saved.ctime() != actual.ctime() || saved.headerSize() != actual.headerSize()) {
      return "the archive's header (ctime, size) differs from the index's";
    }
    if (!saved.devices().equals(actual.devices())) {
      return "the archive's devices " + names(actual.devices()) + " differ from the index's "
          + names(saved.devices());
    }
    List<ConfigBlob> a = actual.configs();
    List<ConfigBlob> s = saved.configs();
    boolean same = a.size() == s.size();
    for (int i = 0; same && i < a.size(); i++) {
      same = a.get(i).name().equals(s.get(i).name()) && Arrays.equals(a.get(i).data(), s.get(i).data());
    }
    return same ? null : "the archive's configs differ from the index's";
  }

  private static String names(List<DeviceInfo> devices) {
    return devices.stream().map(d -> d.name() + "(" + d.size() + ")").toList().toString();
  }

  /**
   * Why {@code index} does not describe {@code stream}, or null if every place looked at agrees.
   *
   * @param leading extents checked in order from the first
   * @param samples stored clusters checked at random, each against its extent header
   */
  public static String sample(ExtentIndex index, ArchiveSource stream, int leading, int samples,
      Random random) throws IOException {
    VmaHeader header = index.header();
    if (stream.size() != index.streamLength()) {
      return "the index describes a " + index.streamLength() + "-byte stream, the archive holds "
          + stream.size();
    }
    byte[] first = new byte[header.headerSize()];
    stream.readFully(0, ByteBuffer.wrap(first));
    String why;
    try {
      why = headerMismatch(header, VmaHeader.parse(first));
    } catch (MalformedArchiveException e) {
      return "the archive's header does not parse: " + e.getMessage();
    }
    if (why != null) {
      return why;
    }
    long pos = header.headerSize();
    for (int n = 0; n < leading && pos < index.streamLength(); n++) {
      ExtentHeader e = extentAt(stream, pos, header);
      if (e == null) {
        return "extent #" + n + " at stream offset " + pos + " is not where the index has it";
      }
      why = extentMismatch(index, e);
      if (why != null) {
        return why;
      }
      pos += e.length();
    }
    for (int n = 0; n < samples; n++) {
      why = checkRandomCluster(index, stream, random);
      if (why != null) {
        return why;
      }
    }
    return null;
  }

  /** One stored cluster picked at random from a listed page, against the extent listing it. */
  private static String checkRandomCluster(ExtentIndex index, ArchiveSource stream, Random random)
      throws IOException {
    List<DeviceIndex> devices = index.devices();
    if (devices.isEmpty()) {
      return null;
    }
    DeviceIndex d = devices.get(random.nextInt(devices.size()));
    int[] pages = d.table().sealed();
    if (pages.length == 0) {
      return null;
    }
    long cluster = ((long) pages[random.nextInt(pages.length)] << ClusterTable.PAGE_SHIFT)
        + random.nextInt(ClusterTable.PAGE_CLUSTERS);
    long entry = cluster < d.clusterCount() ? d.entry(cluster) : 0;
    if (!ClusterTable.isPresent(entry) || ClusterTable.mask(entry) == 0) {
      return null; // nothing stored to find an extent by
    }
    long data = ClusterTable.offset(entry);
    // The extent header sits 512 bytes before its first stored block, some whole blocks before
    // this one (at most an extent's worth). Read backwards a piece at a time: on average the
    // header is half an extent back, and each piece read costs decoding it.
    long floor = Math.max(index.header().headerSize(),
        data - EXTENT_HEADER_SIZE - (long) (MAX_BLOCKS_PER_EXTENT - 1) * BLOCK_SIZE);
    for (long end = data; end > floor; end -= SCAN_PIECE) {
      long from = Math.max(floor, end - SCAN_PIECE);
      // Candidates are those starting in [from, end); the last one needs 512 bytes past end.
      long to = Math.min(data, end + EXTENT_HEADER_SIZE);
      byte[] piece = new byte[(int) (to - from)];
      stream.readFully(from, ByteBuffer.wrap(piece));
      long first = data - EXTENT_HEADER_SIZE - (data - EXTENT_HEADER_SIZE - (end - 1)
          + BLOCK_SIZE - 1) / BLOCK_SIZE * BLOCK_SIZE;
      for (long at = Math.min(first, data - EXTENT_HEADER_SIZE); at >= from; at -= BLOCK_SIZE) {
        int i = (int) (at - from);
        if (i + EXTENT_HEADER_SIZE <= piece.length && Arrays.equals(piece, i, i + 4, EXTENT_MAGIC, 0, 4)) {
          ExtentHeader e = parse(piece, i, at, index.header());
          if (e != null && lists(e, d.info().id(), cluster, data)) {
            return extentMismatch(index, e);
          }
        }
      }
    }
    return "no extent header lists cluster " + cluster + " of " + d.info().name()
        + " at stream offset " + data + ", where the index has its data";
  }

  /** The valid extent header at {@code at}, or null. */
  private static ExtentHeader extentAt(ArchiveSource stream, long at, VmaHeader header)
      throws IOException {
    if (at + EXTENT_HEADER_SIZE > stream.size()) {
      return null;
    }
    byte[] b = new byte[EXTENT_HEADER_SIZE];
    stream.readFully(at, ByteBuffer.wrap(b, 0, 4));
    if (!Arrays.equals(b, 0, 4, EXTENT_MAGIC, 0, 4)) {
      return null;
    }
    stream.readFully(at, ByteBuffer.wrap(b));
    return parse(b, 0, at, header);
  }

  private static ExtentHeader parse(byte[] b, int pos, long at, VmaHeader header) {
    try {
      return ExtentHeader.parse(b, pos, at, header);
    } catch (MalformedArchiveException e) {
      return null;
    }
  }

  /** Whether {@code e} stores cluster {@code cluster} of device {@code devId} at {@code data}. */
  private static boolean lists(ExtentHeader e, int devId, long cluster, long data) {
    return e.slots().stream().anyMatch(s -> s.devId() == devId && s.cluster() == cluster
        && s.dataOffset() == data);
  }

  /**
   * Why the entries of {@code e} disagree with {@code index}, or null; the same arithmetic as the
   * pass ({@link ExtentIndexBuilder}). Where a device has duplicates, a later copy may have won.
   */
  static String extentMismatch(ExtentIndex index, ExtentHeader e) {
    for (ExtentHeader.Slot s : e.slots()) {
      DeviceIndex d = device(index, s.devId());
      if (d == null) {
        return "the extent at stream offset " + e.offset() + " names dev_id " + s.devId()
            + ", which the index does not have";
      }
      long cluster = s.cluster();
      if (cluster >= d.clusterCount()) {
        continue; // past the device end: the index ignores it too
      }
      int kept = cluster == d.clusterCount() - 1 ? s.mask() & validMask(d.info().size(), cluster) : s.mask();
      long entry = d.entry(cluster);
      boolean same = ClusterTable.isPresent(entry) && ClusterTable.mask(entry) == kept
          && ClusterTable.offset(entry) == s.dataOffset();
      boolean laterCopy = ClusterTable.isPresent(entry) && d.stats().duplicateClusters() > 0
          && ClusterTable.offset(entry) > s.dataOffset();
      if (!same && !laterCopy) {
        return "cluster " + cluster + " of " + d.info().name() + " is at stream offset "
            + s.dataOffset() + " (mask " + Integer.toHexString(kept) + ") in the extent at "
            + e.offset() + ", but the index says " + (ClusterTable.isPresent(entry)
                ? "offset " + ClusterTable.offset(entry) + " (mask "
                    + Integer.toHexString(ClusterTable.mask(entry)) + ")"
                : "it is missing");
      }
    }
    return null;
  }

  private static DeviceIndex device(ExtentIndex index, int devId) {
    for (DeviceIndex d : index.devices()) {
      if (d.info().id() == devId) {
        return d;
      }
    }
    return null;
  }
}
