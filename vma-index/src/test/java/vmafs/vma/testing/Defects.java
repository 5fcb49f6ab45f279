package vmafs.vma.testing;

import static vmafs.vma.VmaFormat.*;
import static vmafs.vma.testing.ArchiveBytes.blockInfoAt;
import static vmafs.vma.testing.ArchiveBytes.cString;
import static vmafs.vma.testing.ArchiveBytes.devInfoAt;

import java.io.IOException;
import java.util.function.ToLongFunction;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import vmafs.vma.VmaHeader;

/**
 * One defect per archive: each breaks exactly one field of {@link #goodArchive()} (rehashing the
 * MD5 that covers it, unless the MD5 itself is the defect) and says which field a reader must
 * name and at which archive offset. Shared by the library tests and the CLI tests.
 */
public final class Defects {
  private Defects() {}

  /**
   * @param name what is wrong, e.g. {@code extentUuidMismatch}
   * @param breaker turns a copy of the good archive into the bad one
   * @param field the field the error must name
   * @param offset the field's offset, computed on the good archive
   * @param inHeader whether the defect is in the header (so that header-only commands see it)
   */
  public record Defect(String name, UnaryOperator<ArchiveBytes> breaker, String field,
      ToLongFunction<ArchiveBytes> offset, boolean inHeader) {
    public ArchiveBytes apply(ArchiveBytes good) {
      return breaker.apply(good.copy());
    }

    @Override
    public String toString() {
      return name;
    }
  }

  /** A config, two devices, three clusters per extent: several extents, all with data. */
  public static ArchiveBytes goodArchive() throws IOException {
    return VmaArchiveBuilder.archive().slots(3)
        .config("qemu-server.conf", "bootdisk: scsi0\nscsi0: local:vm-100-disk-0,size=1M\n")
        .device("drive-scsi0", Sources.random(400_000, 1))
        .device("drive-scsi1", Sources.mixed(200_000, 2))
        .build();
  }

  private static Defect defect(String name, UnaryOperator<ArchiveBytes> breaker, String field,
      ToLongFunction<ArchiveBytes> offsetInGoodArchive) {
    boolean header = !field.startsWith("extent") && !field.startsWith("blockinfo")
        && !name.startsWith("trailing");
    return new Defect(name, breaker, field, offsetInGoodArchive, header);
  }

  /** The second extent: not the first, so that offsets must be absolute. */
  public static long e1(ArchiveBytes a) {
    return a.extentAt(1);
  }

  /** Every defect, each applied to a copy of {@link #goodArchive()}. */
  public static Stream<Defect> all() {
    return Stream.of(
        // ---- fixed header ----
        defect("wrongMagic", a -> a.putBytes(OFF_MAGIC, new byte[] {'V', 'M', 'B', 0}), "magic", a -> OFF_MAGIC),
        defect("wrongVersion", a -> a.putU32(OFF_VERSION, 2).rehashHeader(), "version", a -> OFF_VERSION),
        defect("headerMd5Mismatch", a -> a.flip(OFF_RESERVED0 + 100), "header md5", a -> OFF_HEADER_MD5),
        defect("headerSizeEqualToFixedPart", a -> a.putU32(OFF_HEADER_SIZE, FIXED_HEADER_SIZE), "header_size", a -> OFF_HEADER_SIZE),
        defect("headerSizeSmallerThanFixedPart", a -> a.putU32(OFF_HEADER_SIZE, 512), "header_size", a -> OFF_HEADER_SIZE),
        defect("headerSizeHuge", a -> a.putU32(OFF_HEADER_SIZE, 0xFFFF_FFF0L), "header_size", a -> OFF_HEADER_SIZE),
        defect("headerSizePastEndOfFile", a -> a.putU32(OFF_HEADER_SIZE, VmaHeader.MAX_PARSED_HEADER_SIZE), "header",
            ArchiveBytes::length),
        defect("blobBufferOffsetInsideFixedHeader", a -> a.putU32(OFF_BLOB_BUFFER_OFFSET, FIXED_HEADER_SIZE - 1).rehashHeader(),
            "blob_buffer_offset", a -> OFF_BLOB_BUFFER_OFFSET),
        defect("blobBufferSizePastHeaderSize",
            a -> a.putU32(OFF_BLOB_BUFFER_SIZE, a.headerSize() - FIXED_HEADER_SIZE + 1).rehashHeader(),
            "blob_buffer_size", a -> OFF_BLOB_BUFFER_SIZE),
        defect("blobBufferOffsetPastHeaderSize", a -> a.putU32(OFF_BLOB_BUFFER_OFFSET, a.headerSize()).rehashHeader(),
            "blob_buffer_size", a -> OFF_BLOB_BUFFER_SIZE),
        // ---- blobs ----
        defect("configNamePointerIntoNowhere", a -> a.putU32(OFF_CONFIG_NAMES, 60_000).rehashHeader(),
            "config_names[0]", a -> OFF_CONFIG_NAMES),
        defect("configDataPointerIntoMiddleOfBlob", a -> a.putU32(OFF_CONFIG_DATA, a.configDataPointer(0) + 1).rehashHeader(),
            "config_data[0]", a -> OFF_CONFIG_DATA),
        defect("configNameWithoutNul", a -> a.putU8(lastByteOfBlob(a, a.configNamePointer(0)), 'x').rehashHeader(),
            "config_names[0]", a -> a.blobAt(a.configNamePointer(0))),
        defect("zeroLengthConfigName", a -> {
          long ptr = a.appendBlob(new byte[0]);
          return a.putU32(OFF_CONFIG_NAMES, ptr).rehashHeader();
        }, "config_names[0]", a -> a.blobAt(a.blobBufferSize())),
        defect("emptyConfigName", a -> {
          long ptr = a.appendBlob(cString(""));
          return a.putU32(OFF_CONFIG_NAMES, ptr).rehashHeader();
        }, "config_names[0]", a -> a.blobAt(a.blobBufferSize())),
        defect("deviceNameWithoutNul", a -> a.putU8(lastByteOfBlob(a, a.deviceNamePointer(2)), 'x').rehashHeader(),
            "dev_info[2].devname_ptr", a -> a.blobAt(a.deviceNamePointer(2))),
        defect("deviceNamePointerIntoNowhere", a -> a.putU32(devInfoAt(2) + DEV_OFF_NAME_PTR, 60_000).rehashHeader(),
            "dev_info[2].devname_ptr", a -> devInfoAt(2) + DEV_OFF_NAME_PTR),
        defect("deviceSizeNegative", a -> a.putU64(devInfoAt(1) + DEV_OFF_SIZE, -1).rehashHeader(),
            "dev_info[1].size", a -> devInfoAt(1) + DEV_OFF_SIZE),
        defect("deviceSizeBeyond256TiB", a -> a.putU64(devInfoAt(1) + DEV_OFF_SIZE, (1L << 48) + 1).rehashHeader(),
            "dev_info[1].size", a -> devInfoAt(1) + DEV_OFF_SIZE),
        // ---- extents ----
        defect("extentBlockCountOneTooMany", a -> a.putU16(e1(a) + EXT_OFF_BLOCK_COUNT,
                (int) a.u16(e1(a) + EXT_OFF_BLOCK_COUNT) + 1).rehashExtent(e1(a)),
            "extent block_count", a -> e1(a) + EXT_OFF_BLOCK_COUNT),
        defect("extentBlockCountOneTooFew", a -> a.putU16(e1(a) + EXT_OFF_BLOCK_COUNT,
                (int) a.u16(e1(a) + EXT_OFF_BLOCK_COUNT) - 1).rehashExtent(e1(a)),
            "extent block_count", a -> e1(a) + EXT_OFF_BLOCK_COUNT),
        defect("extentBlockCountAbove944", a -> a.putU16(e1(a) + EXT_OFF_BLOCK_COUNT, MAX_BLOCKS_PER_EXTENT + 1)
            .rehashExtent(e1(a)), "extent block_count", a -> e1(a) + EXT_OFF_BLOCK_COUNT),
        defect("extentBlockCount65535", a -> a.putU16(e1(a) + EXT_OFF_BLOCK_COUNT, 0xFFFF).rehashExtent(e1(a)),
            "extent block_count", a -> e1(a) + EXT_OFF_BLOCK_COUNT),
        defect("extentMagicWrong", a -> a.putBytes(e1(a), new byte[] {'V', 'M', 'A', 'X'}).rehashExtent(e1(a)),
            "extent magic", Defects::e1),
        defect("extentReservedNonZero", a -> a.putU16(e1(a) + EXT_OFF_RESERVED, 1).rehashExtent(e1(a)),
            "extent reserved", a -> e1(a) + EXT_OFF_RESERVED),
        defect("extentUuidMismatch", a -> a.flip(e1(a) + EXT_OFF_UUID + 15).rehashExtent(e1(a)),
            "extent uuid", a -> e1(a) + EXT_OFF_UUID),
        defect("extentMd5Mismatch", a -> a.flip(blockInfoAt(e1(a), SLOTS_PER_EXTENT - 1) + 2),
            "extent header md5", a -> e1(a) + EXT_OFF_MD5),
        defect("blockInfoWithUnknownDevId", a -> a.putU8(blockInfoAt(e1(a), 1) + 3, 7).rehashExtent(e1(a)),
            "blockinfo dev_id", a -> blockInfoAt(e1(a), 1)),
        defect("blockInfoWithDevId255", a -> a.putU8(blockInfoAt(e1(a), 0) + 3, 255).rehashExtent(e1(a)),
            "blockinfo dev_id", a -> blockInfoAt(e1(a), 0)),
        // ---- truncation and trailing bytes ----
        defect("emptyFile", a -> a.truncate(0), "magic", a -> 0),
        defect("threeByteFile", a -> a.truncate(3), "header", a -> 3),
        defect("truncatedInsideFixedHeader", a -> a.truncate(5000), "header", a -> 5000),
        defect("truncatedInsideBlobArea", a -> a.truncate(FIXED_HEADER_SIZE + 3), "header", a -> FIXED_HEADER_SIZE + 3),
        defect("truncatedInsideExtentHeader", a -> a.truncate(e1(a) + 100), "extent header", Defects::e1),
        defect("truncatedInsideExtentData", a -> a.truncate(e1(a) + EXTENT_HEADER_SIZE + BLOCK_SIZE + 5),
            "extent data", a -> e1(a) + EXTENT_HEADER_SIZE),
        defect("truncatedInsideLastExtentData", a -> a.truncate(a.length() - 1),
            "extent data", a -> a.lastExtentAt() + EXTENT_HEADER_SIZE),
        defect("trailingGarbage", a -> a.append(Sources.random(EXTENT_HEADER_SIZE, 5)), "extent magic", ArchiveBytes::length),
        defect("trailingZeroBlock", a -> a.append(new byte[EXTENT_HEADER_SIZE]), "extent magic", ArchiveBytes::length),
        defect("trailingShortPadding", a -> a.append(new byte[17]), "extent header", ArchiveBytes::length));
  }

  private static long lastByteOfBlob(ArchiveBytes a, long pointer) {
    long at = a.blobAt(pointer);
    long len = (a.bytes()[(int) at] & 0xFF) | (a.bytes()[(int) at + 1] & 0xFF) << 8;
    return at + 2 + len - 1;
  }
}
