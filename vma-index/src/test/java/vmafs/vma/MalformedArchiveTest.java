package vmafs.vma;

import static org.junit.jupiter.api.Assertions.*;
import static vmafs.vma.VmaFormat.*;
import static vmafs.vma.testing.ArchiveBytes.blockInfoAt;
import static vmafs.vma.testing.ArchiveBytes.devInfoAt;

import java.io.BufferedInputStream;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import vmafs.vma.index.ExtentIndexBuilder;
import vmafs.vma.testing.ArchiveBytes;
import vmafs.vma.testing.Defects;
import vmafs.vma.testing.Defects.Defect;
import vmafs.vma.testing.OpenArchive;

/**
 * Every {@link Defects defect} must give a MalformedArchiveException that names the broken field
 * at its exact archive offset. Each is read from a file (the index scan), as a plain stream, and
 * as stdin redirected from a file, whose skips and short reads behave differently.
 */
class MalformedArchiveTest {
  @TempDir static Path dir;
  static ArchiveBytes good;

  @BeforeAll
  static void buildGoodArchive() throws IOException {
    good = Defects.goodArchive();
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
        scanStream(Files.newInputStream(p));
      }
    },
    /** Like stdin redirected from a file: its skip() seeks past the end without complaint. */
    STDIN {
      @Override
      void scan(Path p) throws IOException {
        scanStream(new FileInputStream(p.toFile()));
      }
    };

    private static void scanStream(InputStream raw) throws IOException {
      try (InputStream in = new BufferedInputStream(raw)) {
        ExtentIndexBuilder.build(VmaStreamReader.open(in), Progress.NONE).close();
      }
    }

    abstract void scan(Path p) throws IOException;
  }

  static Stream<Arguments> defectsAndReaders() {
    return Defects.all().flatMap(d -> Stream.of(Reader.values()).map(r -> Arguments.of(d, r)));
  }

  @ParameterizedTest(name = "{0} ({1})")
  @MethodSource("defectsAndReaders")
  void rejectsArchiveWithDefect(Defect d, Reader reader) throws IOException {
    Path p = d.apply(good).writeTo(dir.resolve("bad.vma"));
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
    long e = Defects.e1(a);
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
