package vmafs.vma.image;

import static org.junit.jupiter.api.Assertions.*;
import static vmafs.vma.VmaFormat.*;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import vmafs.vma.ConfigBlob;
import vmafs.vma.DeviceInfo;
import vmafs.vma.VmaHeader;
import vmafs.vma.index.DeviceIndex;
import vmafs.vma.testing.ArchiveBytes;
import vmafs.vma.testing.OpenArchive;
import vmafs.vma.testing.Sources;
import vmafs.vma.testing.VmaArchiveBuilder;
import vmafs.vma.testing.VmaArchiveBuilder.Order;

/** create (VmaWriter) → index → read (DeviceImage) gives back the source bytes exactly. */
class RoundTripTest {
  @TempDir Path dir;

  private Path write(ArchiveBytes a) throws IOException {
    return a.writeTo(dir.resolve("a.vma"));
  }

  /** Sizes that are not multiples of 64 KiB, 4 KiB or 512, and the boundaries around them. */
  @ParameterizedTest(name = "size {0}")
  @ValueSource(ints = {1, 511, 513, 4095, 4096, 4097, 65535, 65536, 65537, 200_000, 5_000_123})
  void oddDeviceSizesReadBackExactly(int size) throws IOException {
    byte[] mixed = Sources.mixed(size, size);
    byte[] random = Sources.random(size, size + 1);
    Path p = write(VmaArchiveBuilder.archive().device("drive-scsi0", mixed).device("drive-scsi1", random)
        .order(Order.SHUFFLED).build());
    try (OpenArchive a = OpenArchive.open(p)) {
      assertTrue(a.index().isComplete());
      assertArrayEquals(mixed, a.readAll("drive-scsi0"));
      assertArrayEquals(random, a.readAll("drive-scsi1"));
      // Stored blocks are exactly the non-zero 4 KiB blocks of the source.
      assertEquals(Sources.dataBlocks(mixed), a.index().device("drive-scsi0").orElseThrow().stats().storedBlocks());
      assertEquals(Sources.dataBlocks(random), a.index().device("drive-scsi1").orElseThrow().stats().storedBlocks());
    }
  }

  static Stream<Arguments> ordersAndSlots() {
    List<Arguments> out = new ArrayList<>();
    for (Order o : Order.values()) {
      for (int slots : new int[] {WRITER_SLOTS_PER_EXTENT, SLOTS_PER_EXTENT, 1}) {
        out.add(Arguments.of(o, slots));
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0}, {1} slots")
  @MethodSource("ordersAndSlots")
  void severalDevicesInAnyOrderAndExtentSizeReadBackExactly(Order order, int slots) throws IOException {
    byte[][] contents = {
        Sources.mixed(3_000_017, 1), Sources.random(65_537, 2), Sources.mixed(4_097, 3), new byte[1 << 20]};
    VmaArchiveBuilder b = VmaArchiveBuilder.archive().order(order).slots(slots).seed(42)
        .config("qemu-server.conf", "bootdisk: scsi0\n");
    for (int i = 0; i < contents.length; i++) {
      b.device("drive-scsi" + i, contents[i]);
    }
    ArchiveBytes bytes = b.build();
    assertExtentsHoldAtMost(bytes, slots);
    try (OpenArchive a = OpenArchive.open(write(bytes))) {
      assertTrue(a.index().isComplete());
      for (int i = 0; i < contents.length; i++) {
        assertArrayEquals(contents[i], a.readAll("drive-scsi" + i), "drive-scsi" + i);
      }
    }
  }

  /** The writer fills extents up to the requested slot count and never beyond (format doc 2.1). */
  private static void assertExtentsHoldAtMost(ArchiveBytes a, int slots) {
    int fullest = 0;
    for (long e : a.extentOffsets()) {
      int used = 0;
      for (int s = 0; s < SLOTS_PER_EXTENT; s++) {
        if (blockDevId(a.u64(ArchiveBytes.blockInfoAt(e, s))) != 0) {
          used++;
        }
      }
      fullest = Math.max(fullest, used);
    }
    assertEquals(slots, fullest, "the fullest extent");
  }

  @Test
  void allZeroDeviceStoresNothingAndReadsZeros() throws IOException {
    byte[] zeros = new byte[1_000_000];
    ArchiveBytes bytes = VmaArchiveBuilder.archive().device("drive-scsi0", zeros).build();
    // Only mask-0 entries: every extent is a bare 512-byte header.
    long clusters = clusterCount(zeros.length);
    long extents = (clusters + WRITER_SLOTS_PER_EXTENT - 1) / WRITER_SLOTS_PER_EXTENT;
    assertEquals(bytes.headerSize() + extents * EXTENT_HEADER_SIZE, bytes.length());
    try (OpenArchive a = OpenArchive.open(write(bytes))) {
      DeviceIndex d = a.index().device("drive-scsi0").orElseThrow();
      assertTrue(d.stats().isComplete());
      assertEquals(0, d.stats().storedBlocks());
      assertEquals(clusters, d.stats().presentClusters());
      assertArrayEquals(zeros, a.readAll("drive-scsi0"));
    }
  }

  @ParameterizedTest(name = "with configs: {0}")
  @ValueSource(booleans = {false, true})
  void disklessArchiveIsHeaderPlusOneEmptyExtent(boolean withConfig) throws IOException {
    VmaArchiveBuilder b = VmaArchiveBuilder.archive();
    if (withConfig) {
      b.config("qemu-server.conf", "memory: 512\n");
    }
    ArchiveBytes bytes = b.build();
    assertEquals(bytes.headerSize() + EXTENT_HEADER_SIZE, bytes.length());
    // Even without any blob the header must not be exactly 12288 bytes (format doc 1.11).
    assertTrue(bytes.headerSize() > FIXED_HEADER_SIZE);
    try (OpenArchive a = OpenArchive.open(write(bytes))) {
      assertEquals(1, a.index().extents());
      assertTrue(a.index().devices().isEmpty());
      assertEquals(withConfig ? 1 : 0, a.index().header().configs().size());
    }
  }

  @Test
  void headerWithManyConfigsKeepsEveryConfigInOrder() throws IOException {
    VmaArchiveBuilder b = VmaArchiveBuilder.archive();
    List<ConfigBlob> expected = new ArrayList<>();
    for (int i = 0; i < MAX_CONFIGS; i++) {
      // Sizes vary, one is empty, so that blob boundaries fall everywhere.
      byte[] data = Sources.random(i * 7 % 1500, i);
      expected.add(new ConfigBlob("cfg-" + i + ".conf", data));
      b.config("cfg-" + i + ".conf", data);
    }
    ArchiveBytes bytes = b.device("drive-scsi0", Sources.random(70_000, 9)).build();
    assertEquals(0, bytes.headerSize() % HEADER_ALIGN);
    try (OpenArchive a = OpenArchive.open(write(bytes))) {
      VmaHeader h = a.index().header();
      assertEquals(expected.size(), h.configs().size());
      for (int i = 0; i < expected.size(); i++) {
        assertEquals(expected.get(i).name(), h.configs().get(i).name());
        assertArrayEquals(expected.get(i).data(), h.configs().get(i).data(), expected.get(i).name());
      }
    }
  }

  @Test
  void vmstateDeviceIsRecognisedAndReadsBack() throws IOException {
    byte[] ram = Sources.mixed(300_000, 5);
    ArchiveBytes bytes = VmaArchiveBuilder.archive().device("drive-scsi0", Sources.random(5000, 1))
        .device(VMSTATE_DEVICE, ram).build();
    try (OpenArchive a = OpenArchive.open(write(bytes))) {
      DeviceInfo vm = a.index().header().devices().get(1);
      assertEquals(2, vm.id());
      assertTrue(vm.isVmstate());
      assertEquals("vmstate.bin", vm.imageFileName());
      assertEquals(0, a.index().device(VMSTATE_DEVICE).orElseThrow().stats().outOfOrder());
      assertArrayEquals(ram, a.readAll(VMSTATE_DEVICE));
    }
  }

  @ParameterizedTest
  @EnumSource(Order.class)
  void headerFieldsSurviveTheRoundTrip(Order order) throws IOException {
    ArchiveBytes bytes = VmaArchiveBuilder.archive().order(order).device("drive-efidisk0", new byte[540_672])
        .device("drive-tpmstate0-backup", Sources.random(4_194_304 / 64, 3)).build();
    assertEquals(0, bytes.length() % 512, "a complete archive is a multiple of 512 bytes");
    try (OpenArchive a = OpenArchive.open(write(bytes))) {
      VmaHeader h = a.index().header();
      assertEquals(VERSION, h.version());
      assertArrayEquals(VmaArchiveBuilder.UUID, h.uuid());
      assertEquals("11223344-5566-7788-99aa-bbccddeeff01", h.uuidString());
      assertEquals(VmaArchiveBuilder.CTIME, h.ctime());
      assertEquals(List.of(new DeviceInfo(1, "drive-efidisk0", 540_672), new DeviceInfo(2, "drive-tpmstate0-backup", 65_536)),
          h.devices());
      assertEquals(bytes.length(), a.index().streamLength());
    }
  }
}
