package vmafs.vma.write;

import static vmafs.vma.VmaFormat.*;

import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import vmafs.vma.ConfigBlob;
import vmafs.vma.DeviceInfo;
import vmafs.vma.ExtentHeader;
import vmafs.vma.VmaHeader;

/**
 * Writes a VMA archive that Proxmox's reader accepts, as a stream (no seeking, so stdout and
 * pipes work): the header first, then extents of at most 58 clusters (59 on request), every
 * cluster of every device exactly once if the caller says so, zero clusters as mask-0 entries.
 * The order of clusters is the caller's: in order, interleaved or shuffled.
 */
public final class VmaWriter implements Closeable {
  private final OutputStream out;
  private final VmaHeader header;
  private final byte[] uuid;
  private final int slotsPerExtent;
  private final long[] slots = new long[SLOTS_PER_EXTENT];
  private final ByteBuffer data = ByteBuffer.allocate(MAX_BLOCKS_PER_EXTENT * BLOCK_SIZE);
  private final DeviceInfo[] byId = new DeviceInfo[MAX_DEVICES];
  private final byte[] extentBuf = new byte[EXTENT_HEADER_SIZE];
  private int used;
  private long extentsWritten;
  private long bytesWritten;
  private boolean closed;

  private VmaWriter(OutputStream out, VmaHeader header, byte[] headerBytes, int slotsPerExtent)
      throws IOException {
    this.out = out;
    this.header = header;
    this.uuid = header.uuid();
    this.slotsPerExtent = slotsPerExtent;
    for (DeviceInfo d : header.devices()) {
      byId[d.id()] = d;
    }
    out.write(headerBytes);
    bytesWritten = headerBytes.length;
  }

  /**
   * Starts an archive and writes its header.
   *
   * @param devices names and sizes; dev_ids are assigned 1, 2, … in this order
   * @param slotsPerExtent 58 as Proxmox writes, or 59 (the format's maximum)
   */
  public static VmaWriter create(OutputStream out, byte[] uuid, long ctime, List<ConfigBlob> configs,
      List<DeviceSpec> devices, int slotsPerExtent) throws IOException {
    if (slotsPerExtent < 1 || slotsPerExtent > SLOTS_PER_EXTENT) {
      throw new IllegalArgumentException("slots per extent must be 1.." + SLOTS_PER_EXTENT);
    }
    HeaderBytes h = HeaderBytes.build(uuid, ctime, configs, devices);
    return new VmaWriter(out, h.header(), h.bytes(), slotsPerExtent);
  }

  /** A device to register: name (no whitespace or '/') and exact size in bytes. */
  public record DeviceSpec(String name, long size) {
    public DeviceSpec {
      NameRules.checkDeviceName(name);
      if (size <= 0) {
        throw new IllegalArgumentException("device " + name + ": size must be positive, got " + size);
      }
      if (clusterCount(size) > 1L << 32) {
        throw new IllegalArgumentException("device " + name + ": larger than the format's 256 TiB");
      }
    }
  }

  public VmaHeader header() {
    return header;
  }

  public long bytesWritten() {
    return bytesWritten;
  }

  public long extentsWritten() {
    return extentsWritten;
  }

  /**
   * Adds one cluster. Blocks that are all zero are not stored; blocks that start at or past the
   * device end are never stored, and bytes of the last block past the end are written as zeros.
   *
   * @param cluster64k 65536 bytes; only read, never kept
   */
  public void writeCluster(int devId, long cluster, byte[] cluster64k) throws IOException {
    DeviceInfo d = device(devId, cluster);
    int valid = validMask(d.size(), cluster);
    int mask = 0;
    for (int j = 0; j < BLOCKS_PER_CLUSTER; j++) {
      if ((valid >>> j & 1) != 0 && !isZero(cluster64k, j * BLOCK_SIZE, blockLength(d, cluster, j))) {
        mask |= 1 << j;
      }
    }
    writeEntry(devId, cluster, mask, cluster64k, d);
  }

  /** Adds an all-zero cluster: a mask-0 entry, nothing stored (no 64 KiB buffer to scan). */
  public void writeZeroCluster(int devId, long cluster) throws IOException {
    device(devId, cluster);
    if (slotsUsedFull()) {
      flush();
    }
    slots[used++] = blockInfo(0, devId, cluster);
  }

  /**
   * Adds one cluster with an explicit mask, for building unusual but legal archives in tests (for
   * example pre-2020 archives with bits set past the device end). The blocks are taken from
   * {@code cluster64k} at their in-cluster offsets, unchanged.
   */
  public void writeClusterWithMask(int devId, long cluster, int mask, byte[] cluster64k)
      throws IOException {
    device(devId, cluster);
    if (slotsUsedFull()) {
      flush();
    }
    addEntry(devId, cluster, mask, cluster64k, CLUSTER_SIZE);
  }

  private void writeEntry(int devId, long cluster, int mask, byte[] src, DeviceInfo d)
      throws IOException {
    if (slotsUsedFull()) {
      flush();
    }
    long clusterBase = cluster << CLUSTER_SHIFT;
    int validBytes = (int) Math.min(CLUSTER_SIZE, d.size() - clusterBase);
    addEntry(devId, cluster, mask, src, validBytes);
  }

  private boolean slotsUsedFull() {
    return used >= slotsPerExtent;
  }

  private void addEntry(int devId, long cluster, int mask, byte[] src, int validBytes) {
    slots[used++] = blockInfo(mask, devId, cluster);
    for (int j = 0; j < BLOCKS_PER_CLUSTER; j++) {
      if ((mask >>> j & 1) == 0) {
        continue;
      }
      int from = j * BLOCK_SIZE;
      int n = Math.max(0, Math.min(BLOCK_SIZE, validBytes - from));
      data.put(src, from, n);
      // The partial last block: bytes past the device end are zeros, as Proxmox writes them.
      for (int i = n; i < BLOCK_SIZE; i++) {
        data.put((byte) 0);
      }
    }
  }

  private DeviceInfo device(int devId, long cluster) {
    DeviceInfo d = devId > 0 && devId < MAX_DEVICES ? byId[devId] : null;
    if (d == null) {
      throw new IllegalArgumentException("no device with dev_id " + devId);
    }
    if (cluster < 0 || cluster >= d.clusterCount()) {
      throw new IllegalArgumentException(
          "cluster " + cluster + " is past the end of " + d.name() + " (" + d.clusterCount() + " clusters)");
    }
    return d;
  }

  private static int blockLength(DeviceInfo d, long cluster, int j) {
    long start = (cluster << CLUSTER_SHIFT) + ((long) j << BLOCK_SHIFT);
    return (int) Math.min(BLOCK_SIZE, d.size() - start);
  }

  private static boolean isZero(byte[] b, int from, int len) {
    ByteBuffer bb = ByteBuffer.wrap(b, from, len).order(ByteOrder.nativeOrder());
    int i = from;
    int end = from + len;
    for (; i + 8 <= end; i += 8) {
      if (bb.getLong(i) != 0) {
        return false;
      }
    }
    for (; i < end; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return true;
  }

  /** Writes the pending extent, if it holds any entry. */
  public void flush() throws IOException {
    if (used == 0) {
      return;
    }
    writeExtent();
  }

  private void writeExtent() throws IOException {
    int blockCount = data.position() / BLOCK_SIZE;
    Arrays.fill(extentBuf, (byte) 0);
    ByteBuffer h = ByteBuffer.wrap(extentBuf);
    h.put(EXT_OFF_MAGIC, EXTENT_MAGIC);
    h.putShort(EXT_OFF_BLOCK_COUNT, (short) blockCount);
    h.put(EXT_OFF_UUID, uuid);
    for (int i = 0; i < used; i++) {
      h.putLong(EXT_OFF_BLOCKINFO + i * BLOCKINFO_SIZE, slots[i]);
    }
    h.put(EXT_OFF_MD5, ExtentHeader.md5(extentBuf, 0));
    out.write(extentBuf);
    out.write(data.array(), 0, data.position());
    bytesWritten += EXTENT_HEADER_SIZE + data.position();
    extentsWritten++;
    data.clear();
    Arrays.fill(slots, 0);
    used = 0;
  }

  /**
   * Writes the last extent and flushes the stream (the stream is not closed). An archive with no
   * cluster at all still gets one empty extent, as Proxmox writes for diskless VMs.
   */
  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    if (used > 0 || extentsWritten == 0) {
      writeExtent();
    }
    out.flush();
  }

  /** Name checks shared by the writer and the extractor. */
  public static final class NameRules {
    private NameRules() {}

    /** Device names become file names and qmrestore's {@code \S+}: no whitespace, no '/'. */
    public static void checkDeviceName(String name) {
      if (name.isEmpty() || name.length() > 255 || !name.codePoints().allMatch(NameRules::deviceChar)) {
        throw new IllegalArgumentException("invalid device name '" + name
            + "': use 1-255 characters, no whitespace, '/' or control characters");
      }
      if (name.equals(".") || name.equals("..")) {
        throw new IllegalArgumentException("invalid device name '" + name + "'");
      }
    }

    private static boolean deviceChar(int c) {
      return c > ' ' && c != '/' && c != 0x7f;
    }

    /** Config names are stored as basenames; they become file names on extract and mount. */
    public static void checkConfigName(String name) {
      if (name.isEmpty() || name.contains("/") || name.equals(".") || name.equals("..")
          || name.indexOf('\0') >= 0 || name.getBytes(StandardCharsets.UTF_8).length > 255) {
        throw new IllegalArgumentException("invalid config name '" + name + "'");
      }
    }
  }

  /** Builds the header bytes: blobs from position 1, little-endian lengths, MD5 last. */
  record HeaderBytes(VmaHeader header, byte[] bytes) {
    static HeaderBytes build(byte[] uuid, long ctime, List<ConfigBlob> configs,
        List<DeviceSpec> devices) {
      if (configs.size() > MAX_CONFIGS) {
        throw new IllegalArgumentException("at most " + MAX_CONFIGS + " config files");
      }
      if (devices.size() > LAST_DEV_ID) {
        throw new IllegalArgumentException("at most " + LAST_DEV_ID + " devices");
      }
      ByteBuffer blobs = ByteBuffer.allocate(MAX_HEADER_SIZE);
      blobs.put((byte) 0); // position 0 is never used: pointer 0 means "no blob"
      int[] nameAt = new int[configs.size()];
      int[] dataAt = new int[configs.size()];
      for (int i = 0; i < configs.size(); i++) {
        ConfigBlob c = configs.get(i);
        NameRules.checkConfigName(c.name());
        nameAt[i] = putBlob(blobs, cString(c.name()));
        dataAt[i] = putBlob(blobs, c.data());
      }
      int[] devAt = new int[devices.size()];
      List<DeviceInfo> infos = new ArrayList<>();
      for (int i = 0; i < devices.size(); i++) {
        DeviceSpec d = devices.get(i);
        for (int k = 0; k < i; k++) {
          if (devices.get(k).name().equals(d.name())) {
            throw new IllegalArgumentException("device name " + d.name() + " given twice");
          }
        }
        devAt[i] = putBlob(blobs, cString(d.name()));
        infos.add(new DeviceInfo(i + 1, d.name(), d.size()));
      }
      if (blobs.position() == 1) {
        // Proxmox's reader rejects a header without any blob (header_size would be 12288).
        putBlob(blobs, new byte[] {0});
      }
      int blobSize = blobs.position();
      int headerSize = FIXED_HEADER_SIZE + roundUp(blobSize, HEADER_ALIGN);
      if (headerSize > MAX_HEADER_SIZE) {
        throw new IllegalArgumentException("configs and names need a " + headerSize
            + "-byte header; Proxmox's reader takes at most " + MAX_HEADER_SIZE);
      }
      ByteBuffer h = ByteBuffer.allocate(headerSize);
      h.put(OFF_MAGIC, MAGIC);
      h.putInt(OFF_VERSION, VERSION);
      h.put(OFF_UUID, uuid);
      h.putLong(OFF_CTIME, ctime);
      h.putInt(OFF_BLOB_BUFFER_OFFSET, FIXED_HEADER_SIZE);
      h.putInt(OFF_BLOB_BUFFER_SIZE, blobSize);
      h.putInt(OFF_HEADER_SIZE, headerSize);
      for (int i = 0; i < configs.size(); i++) {
        h.putInt(OFF_CONFIG_NAMES + 4 * i, nameAt[i]);
        h.putInt(OFF_CONFIG_DATA + 4 * i, dataAt[i]);
      }
      for (int i = 0; i < devices.size(); i++) {
        int at = OFF_DEV_INFO + (i + 1) * DEV_INFO_SIZE;
        h.putInt(at + DEV_OFF_NAME_PTR, devAt[i]);
        h.putLong(at + DEV_OFF_SIZE, devices.get(i).size());
      }
      h.put(FIXED_HEADER_SIZE, blobs.array(), 0, blobSize);
      byte[] bytes = h.array();
      h.put(OFF_HEADER_MD5, VmaHeader.headerMd5(bytes));
      return new HeaderBytes(new VmaHeader(VERSION, uuid, ctime, headerSize, configs, infos), bytes);
    }

    private static int putBlob(ByteBuffer blobs, byte[] b) {
      if (b.length > MAX_BLOB_LENGTH) {
        throw new IllegalArgumentException("blob of " + b.length + " bytes; the format allows " + MAX_BLOB_LENGTH);
      }
      if (blobs.remaining() < BLOB_LENGTH_PREFIX + b.length) {
        throw new IllegalArgumentException("configs and names exceed the " + MAX_HEADER_SIZE + "-byte header limit");
      }
      int at = blobs.position();
      blobs.put((byte) b.length).put((byte) (b.length >>> 8)); // little-endian, unlike the rest
      blobs.put(b);
      return at;
    }

    private static byte[] cString(String s) {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      return Arrays.copyOf(b, b.length + 1);
    }

    private static int roundUp(int v, int align) {
      return (v + align - 1) / align * align;
    }
  }
}
