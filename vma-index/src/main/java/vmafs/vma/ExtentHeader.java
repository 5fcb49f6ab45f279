package vmafs.vma;

import static vmafs.vma.MalformedArchiveException.check;
import static vmafs.vma.VmaFormat.*;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * A 512-byte extent header: up to 59 blockinfo entries whose stored 4 KiB blocks follow the
 * header in slot order. Immutable; validated on parse.
 *
 * @param offset archive offset of the header
 * @param blockCount stored 4 KiB blocks that follow
 */
public record ExtentHeader(long offset, int blockCount, long[] blockInfos) {

  public ExtentHeader {
    blockInfos = blockInfos.clone();
  }

  /** A copy: the record is immutable, so its array never leaves it. */
  @Override
  public long[] blockInfos() {
    return blockInfos.clone();
  }

  /** The blockinfo of slot {@code i} (0–58); dev_id 0 marks an unused slot. */
  public long blockInfo(int i) {
    return blockInfos[i];
  }

  /**
   * A used slot: one cluster of one device, and where its stored 4 KiB blocks are, both in the
   * stream and among the extent's stored blocks. Every offset a reader of an extent needs comes
   * from here, so no one else does blockinfo arithmetic.
   *
   * @param dataOffset stream offset of the slot's first stored block (where it would be if none)
   * @param firstBlock index of that block among the extent's stored blocks (0 … blockCount)
   */
  public record Slot(int slot, int devId, long cluster, int mask, long dataOffset, int firstBlock) {
    /** Whether 4 KiB block {@code j} (0–15) of the cluster is stored (else it is zeros). */
    public boolean stored(int j) {
      return (mask >>> j & 1) != 0;
    }

    /** Offset in the device image of 4 KiB block {@code j} of the cluster. */
    public long imageOffset(int j) {
      return (cluster << CLUSTER_SHIFT) + ((long) j << BLOCK_SHIFT);
    }

    /** Index among the extent's stored blocks of block {@code j}'s data ({@code j} must be stored). */
    public int dataBlock(int j) {
      return firstBlock + Integer.bitCount(mask & ((1 << j) - 1));
    }

    /**
     * Where block {@code j}'s data starts in the extent's stored blocks as {@link
     * VmaStreamReader#readData} fills them ({@code j} must be stored).
     */
    public int dataStart(int j) {
      return blockStart(dataBlock(j));
    }

    /** Stored blocks of this slot. */
    public int storedBlocks() {
      return Integer.bitCount(mask);
    }

    /** Whether it lists the same cluster of the same device as {@code other}. */
    public boolean sameCluster(Slot other) {
      return devId == other.devId && cluster == other.cluster;
    }
  }

  /** The used slots (dev_id not 0) in order, each with where its data is. */
  public java.util.List<Slot> slots() {
    java.util.List<Slot> out = new java.util.ArrayList<>();
    int block = 0;
    for (int i = 0; i < SLOTS_PER_EXTENT; i++) {
      long bi = blockInfos[i];
      if (blockDevId(bi) != 0) {
        out.add(new Slot(i, blockDevId(bi), blockCluster(bi), blockMask(bi),
            dataOffset() + (long) block * BLOCK_SIZE, block));
        block += Integer.bitCount(blockMask(bi));
      }
    }
    return out;
  }

  /**
   * Where stored block {@code b} (0 … blockCount) of an extent starts in its data as {@link
   * VmaStreamReader#readData} fills it.
   */
  public static int blockStart(int b) {
    return b * BLOCK_SIZE;
  }

  /** Bytes of this extent on the stream: header plus stored blocks. */
  public long length() {
    return EXTENT_HEADER_SIZE + (long) blockCount * BLOCK_SIZE;
  }

  /** Archive offset of the first stored block. */
  public long dataOffset() {
    return offset + EXTENT_HEADER_SIZE;
  }

  /**
   * Validates and parses an extent header. Checks the magic first (the most telling error for
   * trailing garbage), then the MD5, the uuid, the reserved field and the block accounting.
   *
   * @param buf 512 bytes starting at {@code pos}
   * @param offset the archive offset of {@code buf[pos]}
   */
  public static ExtentHeader parse(byte[] buf, int pos, long offset, VmaHeader header)
      throws MalformedArchiveException {
    // Messages are built only on failure: this runs for every extent of every pass.
    if (!Arrays.equals(buf, pos, pos + 4, EXTENT_MAGIC, 0, 4)) {
      throw new MalformedArchiveException("extent magic", offset,
          "expected \"VMAE\", found " + HexFormat.ofDelimiter(" ").formatHex(buf, pos, pos + 4)
              + " (corrupt archive, or garbage after the last extent)");
    }
    byte[] actual = md5(buf, pos);
    if (!Arrays.equals(buf, pos + EXT_OFF_MD5, pos + EXT_OFF_MD5 + MD5_SIZE, actual, 0, MD5_SIZE)) {
      throw new MalformedArchiveException("extent header md5", offset + EXT_OFF_MD5,
          "checksum mismatch (stored "
              + HexFormat.of().formatHex(buf, pos + EXT_OFF_MD5, pos + EXT_OFF_MD5 + MD5_SIZE)
              + ", computed " + HexFormat.of().formatHex(actual) + ")");
    }
    if (!header.uuidEquals(buf, pos + EXT_OFF_UUID)) {
      throw new MalformedArchiveException("extent uuid", offset + EXT_OFF_UUID,
          "does not match the archive uuid " + header.uuidString());
    }
    ByteBuffer bb = ByteBuffer.wrap(buf, pos, EXTENT_HEADER_SIZE).slice();
    check(bb.getShort(EXT_OFF_RESERVED) == 0, "extent reserved", offset + EXT_OFF_RESERVED,
        "must be zero");
    int blockCount = bb.getShort(EXT_OFF_BLOCK_COUNT) & 0xFFFF;
    long[] infos = new long[SLOTS_PER_EXTENT];
    int stored4k = 0;
    for (int i = 0; i < SLOTS_PER_EXTENT; i++) {
      long bi = bb.getLong(EXT_OFF_BLOCKINFO + i * BLOCKINFO_SIZE);
      infos[i] = bi;
      if (blockDevId(bi) != 0) {
        stored4k += Integer.bitCount(blockMask(bi));
      }
    }
    if (blockCount != stored4k) {
      throw new MalformedArchiveException("extent block_count", offset + EXT_OFF_BLOCK_COUNT,
          "block_count " + blockCount + " does not match the " + stored4k
              + " blocks the blockinfo masks mark as stored");
    }
    return new ExtentHeader(offset, blockCount, infos);
  }

  /** MessageDigest.getInstance costs more than hashing 512 bytes; a pass hashes ~300 k headers. */
  private static final ThreadLocal<MessageDigest> MD5 = ThreadLocal.withInitial(VmaHeader::md5);
  private static final byte[] ZERO_MD5 = new byte[MD5_SIZE];

  /** MD5 of a 512-byte extent header with its checksum field taken as zeros. */
  public static byte[] md5(byte[] buf, int pos) {
    MessageDigest md5 = MD5.get();
    md5.update(buf, pos, EXT_OFF_MD5);
    md5.update(ZERO_MD5);
    md5.update(buf, pos + EXT_OFF_MD5 + MD5_SIZE, EXTENT_HEADER_SIZE - EXT_OFF_MD5 - MD5_SIZE);
    return md5.digest();
  }
}
