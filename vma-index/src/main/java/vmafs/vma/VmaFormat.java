package vmafs.vma;

/**
 * Every magic number, size and field offset of the VMA format, in one place.
 *
 * <p>Source of truth: {@code docs/vma-format.md} (checked against Proxmox's reader and writer,
 * which disagree with the public {@code vma_spec.txt} in several places). All header integers are
 * big-endian except the 2-byte blob length prefix, which is little-endian.
 */
public final class VmaFormat {
  private VmaFormat() {}

  // ---- sizes ----
  public static final int BLOCK_SIZE = 4096;
  public static final int BLOCK_SHIFT = 12;
  public static final int CLUSTER_SIZE = 65536;
  public static final int CLUSTER_SHIFT = 16;
  public static final int BLOCKS_PER_CLUSTER = CLUSTER_SIZE / BLOCK_SIZE; // 16
  public static final int EXTENT_HEADER_SIZE = 512;
  /** Blockinfo slots per extent. The official writer fills at most 58; readers accept 59. */
  public static final int SLOTS_PER_EXTENT = 59;
  public static final int WRITER_SLOTS_PER_EXTENT = 58;
  /** Largest block_count an extent can carry: 59 slots × 16 blocks. */
  public static final int MAX_BLOCKS_PER_EXTENT = SLOTS_PER_EXTENT * BLOCKS_PER_CLUSTER; // 944
  public static final int MAX_EXTENT_SIZE = EXTENT_HEADER_SIZE + MAX_BLOCKS_PER_EXTENT * BLOCK_SIZE;
  public static final int MAX_CONFIGS = 256;
  public static final int MAX_DEVICES = 256;
  /** dev_ids that list/extract/verify visit; 0 marks an unused slot, 255 is reserved. */
  public static final int FIRST_DEV_ID = 1;
  public static final int LAST_DEV_ID = 254;
  public static final int MAX_BLOB_LENGTH = 65535;
  /** The writer cannot emit a header (blob buffer included) larger than this. */
  public static final int MAX_HEADER_SIZE = 8 * CLUSTER_SIZE; // 512 KiB
  /** The device name Proxmox reserves for the legacy RAM-state stream. */
  public static final String VMSTATE_DEVICE = "vmstate";

  // ---- main header (at archive offset 0) ----
  public static final byte[] MAGIC = {'V', 'M', 'A', 0};
  public static final int VERSION = 1;
  public static final int FIXED_HEADER_SIZE = 12288;
  public static final int OFF_MAGIC = 0; // 4 bytes
  public static final int OFF_VERSION = 4; // u32
  public static final int OFF_UUID = 8; // 16 bytes
  public static final int UUID_SIZE = 16;
  public static final int OFF_CTIME = 24; // s64, seconds since the epoch
  public static final int OFF_HEADER_MD5 = 32; // 16 bytes, zeroed while hashing
  public static final int MD5_SIZE = 16;
  public static final int OFF_BLOB_BUFFER_OFFSET = 48; // u32, 12288 from the writer
  public static final int OFF_BLOB_BUFFER_SIZE = 52; // u32, bytes in use counting unused byte 0
  public static final int OFF_HEADER_SIZE = 56; // u32, 12288 + blob table, multiple of 512
  public static final int OFF_RESERVED0 = 60; // 1984 zero bytes
  public static final int OFF_CONFIG_NAMES = 2044; // 256 × u32 blob pointers
  public static final int OFF_CONFIG_DATA = 3068; // 256 × u32 blob pointers
  public static final int OFF_RESERVED1 = 4092; // u32
  public static final int OFF_DEV_INFO = 4096; // 256 × 32 bytes, indexed by dev_id
  public static final int DEV_INFO_SIZE = 32;
  public static final int DEV_OFF_NAME_PTR = 0; // u32 blob pointer
  public static final int DEV_OFF_RESERVED0 = 4; // u32
  public static final int DEV_OFF_SIZE = 8; // u64 device size in bytes
  public static final int DEV_OFF_RESERVED1 = 16; // 16 bytes
  /** Blob pointers count from the blob buffer; position 0 is never used so that 0 means "none". */
  public static final int FIRST_BLOB_POSITION = 1;
  public static final int BLOB_LENGTH_PREFIX = 2; // little-endian u16
  /** The writer grows the blob table in steps that keep header_size a multiple of this. */
  public static final int HEADER_ALIGN = 512;

  // ---- extent header ----
  public static final byte[] EXTENT_MAGIC = {'V', 'M', 'A', 'E'};
  public static final int EXT_OFF_MAGIC = 0; // 4 bytes
  public static final int EXT_OFF_RESERVED = 4; // u16, must be 0
  public static final int EXT_OFF_BLOCK_COUNT = 6; // u16, 4 KiB blocks after the header
  public static final int EXT_OFF_UUID = 8; // 16 bytes, equals the main header's
  public static final int EXT_OFF_MD5 = 24; // 16 bytes, zeroed while hashing
  public static final int EXT_OFF_BLOCKINFO = 40; // 59 × u64
  public static final int BLOCKINFO_SIZE = 8;

  // ---- blockinfo (u64, big-endian): mask[63:48] reserved[47:40] dev_id[39:32] cluster[31:0] ----
  /** Bit j set: 4 KiB block j of the cluster is stored; clear: it is all zeros (the spec's name is misleading). */
  public static int blockMask(long blockInfo) {
    return (int) (blockInfo >>> 48) & 0xFFFF;
  }

  public static int blockReserved(long blockInfo) {
    return (int) (blockInfo >>> 40) & 0xFF;
  }

  public static int blockDevId(long blockInfo) {
    return (int) (blockInfo >>> 32) & 0xFF;
  }

  public static long blockCluster(long blockInfo) {
    return blockInfo & 0xFFFF_FFFFL;
  }

  public static long blockInfo(int mask, int devId, long cluster) {
    return ((long) (mask & 0xFFFF) << 48) | ((long) (devId & 0xFF) << 32) | (cluster & 0xFFFF_FFFFL);
  }

  /** Archive offset of {@code dev_info[devId].devname_ptr}, the field a bad device name is reported at. */
  public static long devNamePtrOffset(int devId) {
    return OFF_DEV_INFO + (long) devId * DEV_INFO_SIZE + DEV_OFF_NAME_PTR;
  }

  /** The name of the config-name pointer at archive offset {@code offset}: {@code config_names[slot]}. */
  public static String configNameField(long offset) {
    return "config_names[" + (offset - OFF_CONFIG_NAMES) / 4 + "]";
  }

  /** Clusters a device of {@code size} bytes occupies: ceil(size / 64 KiB). */
  public static long clusterCount(long size) {
    return (size + CLUSTER_SIZE - 1) >>> CLUSTER_SHIFT;
  }

  /**
   * The mask bits that lie inside a device of {@code size} bytes for the given cluster: blocks that
   * start at or beyond the end are never valid (pre-2020 writers sometimes set them anyway).
   */
  public static int validMask(long size, long cluster) {
    long start = cluster << CLUSTER_SHIFT;
    if (start + CLUSTER_SIZE <= size) {
      return 0xFFFF;
    }
    long blocks = Math.max(0, (size - start + BLOCK_SIZE - 1) >> BLOCK_SHIFT);
    return (int) ((1L << Math.min(16, blocks)) - 1);
  }
}
