package vmafs.vma;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Named.named;
import static vmafs.vma.VmaFormat.*;
import static vmafs.vma.testing.ArchiveBytes.blockInfoAt;
import static vmafs.vma.testing.ArchiveBytes.cString;
import static vmafs.vma.testing.ArchiveBytes.devInfoAt;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.ToLongFunction;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import vmafs.vma.index.ExtentIndexBuilder;
import vmafs.vma.testing.ArchiveBytes;
import vmafs.vma.testing.OpenArchive;
import vmafs.vma.testing.Sources;
import vmafs.vma.testing.VmaArchiveBuilder;

/**
 * One defect per archive: each breaks exactly one field of a valid archive (rehashing the MD5 it
 * is covered by, unless the MD5 itself is the defect) and expects a MalformedArchiveException that
 * names that field at its exact archive offset. Every defect is read both from a file (the index
 * scan) and as a plain stream (stdin), whose skips and short reads behave differently.
 */
class MalformedArchiveTest {
  @TempDir static Path dir;
  /** A config, two devices, three clusters per extent: several extents, all with data. */
  static ArchiveBytes good;

  @BeforeAll
  static void buildGoodArchive() throws IOException {
    good = VmaArchiveBuilder.archive().slots(3)
        .config("qemu-server.conf", "bootdisk: scsi0\nscsi0: local:vm-100-disk-0,size=1M\n")
        .device("drive-scsi0", Sources.random(400_000, 1))
        .device("drive-scsi1", Sources.mixed(200_000, 2))
        .build();
  }

  /** How the archive is read. */
  enum Reader {
    FILE {
      @Override
      void scan(Path p) throws IOException {
        OpenArchive.open(p).close();
      }
    },
    STREAM {
      @Override
      void scan(Path p) throws IOException {
        try (InputStream in = new BufferedInputStream(Files.newInputStream(p))) {
          ExtentIndexBuilder.build(VmaStreamReader.open(in), Progress.NONE).close();
        }
      }
    };

    abstract void scan(Path p) throws IOException;
  }

  private record Defect(UnaryOperator<ArchiveBytes> breaker, String field, ToLongFunction<ArchiveBytes> offset) {}

  private static Arguments defect(String name, UnaryOperator<ArchiveBytes> breaker, String field,
      ToLongFunction<ArchiveBytes> offsetInGoodArchive) {
    return Arguments.of(named(name, new Defect(breaker, field, offsetInGoodArchive)));
  }

  private static long e1(ArchiveBytes a) {
    return a.extentAt(1); // not the first extent, so that offsets must be absolute
  }

  static Stream<Arguments> defects() {
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
            "extent magic", MalformedArchiveTest::e1),
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
        defect("truncatedInsideExtentHeader", a -> a.truncate(e1(a) + 100), "extent header", MalformedArchiveTest::e1),
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

  static Stream<Arguments> defectsAndReaders() {
    return defects().flatMap(d -> Stream.of(Reader.values()).map(r -> Arguments.of(d.get()[0], r)));
  }

  @ParameterizedTest(name = "{0} ({1})")
  @MethodSource("defectsAndReaders")
  void rejectsArchiveWithDefect(Defect d, Reader reader) throws IOException {
    Path p = d.breaker().apply(good.copy()).writeTo(dir.resolve("bad.vma"));
    MalformedArchiveException e = assertThrows(MalformedArchiveException.class, () -> reader.scan(p));
    long offset = d.offset().applyAsLong(good);
    assertEquals(d.field(), e.field(), e.getMessage());
    assertEquals(offset, e.offset(), e.getMessage());
    assertTrue(e.getMessage().startsWith(d.field() + " at offset " + offset + ": "), e.getMessage());
    assertFalse(e.getMessage().contains("\n"), "one line");
  }

  @Test
  void theGoodArchiveIsGood() throws IOException {
    Path p = good.writeTo(dir.resolve("good.vma"));
    for (Reader r : Reader.values()) {
      r.scan(p);
    }
    assertTrue(good.extentOffsets().size() > 3);
  }

  /** The official reader never looks at an unused slot (dev_id 0), even if its mask is set. */
  @Test
  void acceptsUnusedSlotWithNonZeroMask() throws IOException {
    ArchiveBytes a = good.copy();
    long e = e1(a);
    a.putU16(blockInfoAt(e, SLOTS_PER_EXTENT - 1), 0xFFFF).rehashExtent(e);
    Path p = a.writeTo(dir.resolve("unused-slot-with-mask.vma"));
    for (Reader r : Reader.values()) {
      r.scan(p);
    }
    try (OpenArchive o = OpenArchive.open(p); OpenArchive g = OpenArchive.open(good.writeTo(dir.resolve("g.vma")))) {
      assertTrue(o.index().isComplete());
      for (String dev : List.of("drive-scsi0", "drive-scsi1")) {
        assertArrayEquals(g.readAll(dev), o.readAll(dev));
      }
    }
  }

  /** A device whose name pointer is 0 is absent, as in the official reader (not an error). */
  @Test
  void deviceWithoutNamePointerIsAbsent() throws IOException {
    ArchiveBytes a = good.copy().putU32(devInfoAt(2) + DEV_OFF_NAME_PTR, 0).rehashHeader();
    // Its entries then name an unknown dev_id: the first extent holding one fails.
    MalformedArchiveException e = assertThrows(MalformedArchiveException.class,
        () -> OpenArchive.open(a.writeTo(dir.resolve("nameless.vma"))));
    assertEquals("blockinfo dev_id", e.field());
    try (InputStream in = Files.newInputStream(dir.resolve("nameless.vma"))) {
      assertEquals(List.of("drive-scsi0"), VmaStreamReader.open(in).header().devices().stream().map(DeviceInfo::name).toList());
    }
  }
}
