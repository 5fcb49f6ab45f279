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
    // The extent header sits 512 bytes before its first stored block, so n blocks before this one.
    for (int before = 0; before < MAX_BLOCKS_PER_EXTENT; before++) {
      long at = data - EXTENT_HEADER_SIZE - (long) before * BLOCK_SIZE;
      if (at < index.header().headerSize()) {
        break;
      }
      ExtentHeader e = extentAt(stream, at, index.header());
      if (e != null && lists(e, d.info().id(), cluster, data)) {
        return extentMismatch(index, e);
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
    try {
      return ExtentHeader.parse(b, 0, at, header);
    } catch (MalformedArchiveException e) {
      return null;
    }
  }

  /** Whether {@code e} stores cluster {@code cluster} of device {@code devId} at {@code data}. */
  private static boolean lists(ExtentHeader e, int devId, long cluster, long data) {
    long offset = e.dataOffset();
    for (int slot = 0; slot < SLOTS_PER_EXTENT; slot++) {
      long bi = e.blockInfo(slot);
      if (blockDevId(bi) == devId && blockCluster(bi) == cluster && offset == data) {
        return true;
      }
      if (blockDevId(bi) != 0) {
        offset += (long) Integer.bitCount(blockMask(bi)) * BLOCK_SIZE;
      }
    }
    return false;
  }

  /**
   * Why the entries of {@code e} disagree with {@code index}, or null; the same arithmetic as the
   * pass ({@link ExtentIndexBuilder}). Where a device has duplicates, a later copy may have won.
   */
  static String extentMismatch(ExtentIndex index, ExtentHeader e) {
    long offset = e.dataOffset();
    for (int slot = 0; slot < SLOTS_PER_EXTENT; slot++) {
      long bi = e.blockInfo(slot);
      int devId = blockDevId(bi);
      if (devId == 0) {
        continue;
      }
      int mask = blockMask(bi);
      DeviceIndex d = device(index, devId);
      if (d == null) {
        return "the extent at stream offset " + e.offset() + " names dev_id " + devId
            + ", which the index does not have";
      }
      long cluster = blockCluster(bi);
      if (cluster < d.clusterCount()) {
        int kept = cluster == d.clusterCount() - 1 ? mask & validMask(d.info().size(), cluster) : mask;
        long entry = d.entry(cluster);
        boolean same = ClusterTable.isPresent(entry) && ClusterTable.mask(entry) == kept
            && ClusterTable.offset(entry) == offset;
        boolean laterCopy = ClusterTable.isPresent(entry) && d.stats().duplicateClusters() > 0
            && ClusterTable.offset(entry) > offset;
        if (!same && !laterCopy) {
          return "cluster " + cluster + " of " + d.info().name() + " is at stream offset " + offset
              + " (mask " + Integer.toHexString(kept) + ") in the extent at " + e.offset()
              + ", but the index says " + (ClusterTable.isPresent(entry)
                  ? "offset " + ClusterTable.offset(entry) + " (mask "
                      + Integer.toHexString(ClusterTable.mask(entry)) + ")"
                  : "it is missing");
        }
      }
      offset += (long) Integer.bitCount(mask) * BLOCK_SIZE;
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
