package vmafs.vma.index;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32C;
import vmafs.vma.VmaFormat;
import vmafs.vma.image.DeviceImage;
import vmafs.vma.testing.Defects;
import vmafs.vma.testing.FuzzInputs;
import vmafs.vma.testing.Fuzzing;

/**
 * The saved-index loader on crafted files: {@link IndexFile#load}, then the loaded index used as a
 * mount uses it (stats, missing ranges, hole walks, reads of listed clusters against the archive
 * the seeds were made from). {@link #repair} makes the CRC32Cs and the identity match whatever the
 * fuzzer wrote, so that it explores the metadata and the tables behind them; a forged index
 * serving wrong bytes is issue #13's known defect (a saved index is trusted once its checksums
 * hold), so bytes are not compared here. Seeds: {@code IndexFileFuzzTestInputs/fuzz/}.
 */
class IndexFileFuzzTest {
  private static final Path DIR = Fuzzing.scratchDir("index");
  private static final byte[] ARCHIVE = goodArchive();
  /** Reused: the harness's own allocations count against the loader's budget. */
  private static final ByteBuffer BUFFER = ByteBuffer.allocate(VmaFormat.CLUSTER_SIZE);

  static byte[] goodArchive() {
    try {
      return Defects.goodArchive().bytes();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @FuzzTest(maxDuration = "8s")
  void fuzz(byte[] input) throws Exception {
    byte[] file = input.clone();
    ArchiveIdentity identity = repair(file);
    Path p = DIR.resolve("fuzz.vmafs-index");
    Files.write(p, file);
    Fuzzing.check(file.length, Fuzzing.Budget.PARSER, () -> {
      try (ExtentIndex index = IndexFile.load(p, identity, false).index()) {
        use(index);
      }
    });
  }

  private static void use(ExtentIndex index) throws IOException {
    for (DeviceIndex d : index.devices()) {
      d.stats().problems();
      d.missingRanges(4);
      d.storedBytes();
      d.zeroBytes();
      DeviceImage img = new DeviceImage(d, FuzzInputs.source(ARCHIVE));
      long at = 0;
      for (int step = 0; step < 64 && at >= 0 && at < img.size(); step++) {
        long data = img.nextData(at);
        if (data < 0 || data >= img.size()) {
          break;
        }
        BUFFER.clear().limit((int) Math.min(VmaFormat.CLUSTER_SIZE, img.size() - data));
        img.read(data, BUFFER);
        long hole = img.nextHole(data);
        if (hole <= data) {
          throw new AssertionError(d.info().name() + ": hole at " + hole + " not after data at " + data);
        }
        at = hole;
      }
    }
  }

  /**
   * Recomputes every checksum of the file in place (tables, sections, metadata, header), walking
   * the metadata as {@link IndexFile} writes it, and returns the identity it records; where the
   * file is too damaged to walk, what could be repaired is.
   */
  static ArchiveIdentity repair(byte[] f) {
    ArchiveIdentity fallback = new ArchiveIdentity(0, 0, new byte[0]);
    if (f.length < IndexFile.PAGE) {
      return fallback;
    }
    ByteBuffer fixed = ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN);
    long metaOffset = fixed.getLong(IndexFile.OFF_META_OFFSET);
    long metaLength = fixed.getLong(IndexFile.OFF_META_LENGTH);
    ArchiveIdentity identity = fallback;
    if (metaOffset >= 0 && metaLength >= 0 && metaLength <= f.length && metaOffset <= f.length - metaLength) {
      int m = (int) metaOffset;
      try {
        identity = repairMeta(f, m, (int) metaLength);
      } catch (IOException | RuntimeException e) {
        // walked as far as it goes
      }
      fixed.putInt(IndexFile.OFF_META_CRC, crc(f, m, (int) metaLength));
    }
    fixed.putInt(IndexFile.OFF_HEADER_CRC, crc(f, 0, IndexFile.OFF_HEADER_CRC));
    return identity;
  }

  private static ArchiveIdentity repairMeta(byte[] f, int m, int len) throws IOException {
    Walk in = new Walk(f, m, len);
    ArchiveIdentity identity = new ArchiveIdentity(in.readLong(), in.readLong(), in.bytes());
    in.readInt(); // VMA version
    in.bytes(); // uuid
    in.readLong(); // ctime
    in.readInt(); // header size
    for (int i = in.readInt(); i > 0; i--) {
      in.readUTF();
      in.bytes();
    }
    in.readLong(); // extents
    in.readLong(); // stream length
    ByteBuffer out = ByteBuffer.wrap(f);
    for (int i = in.readInt(); i > 0; i--) {
      in.readInt();
      in.readUTF();
      in.readLong(); // device size
      long off = in.readLong();
      int crcAt = in.position();
      in.readInt(); // the table's crc, rewritten below
      for (int k = 0; k < 10; k++) {
        in.readLong();
      }
      int pages = in.readInt();
      for (int p = 0; p < pages; p++) {
        in.readInt(); // page number
        in.readInt(); // its stored blocks
      }
      // Only the listed pages are stored (index format 3), one after the other from off.
      long tableBytes = (long) pages * ClusterTable.PAGE_BYTES;
      if (off >= 0 && pages >= 0 && tableBytes <= f.length && off <= f.length - tableBytes) {
        out.putInt(crcAt, crc(f, (int) off, (int) tableBytes));
      }
    }
    for (int i = in.readInt(); i > 0; i--) {
      in.readUTF();
      long off = in.readLong();
      long slen = in.readLong();
      if (off >= 0 && slen >= 0 && off <= f.length - slen) {
        out.putInt(in.position(), crc(f, (int) off, (int) slen));
      }
      in.readInt();
      in.readUnsignedByte(); // who checks the section (index format 4)
    }
    return identity;
  }

  /** A DataInputStream that knows its absolute position in the file. */
  private static final class Walk extends DataInputStream {
    private final int start;
    private final int length;

    Walk(byte[] f, int start, int length) {
      super(new ByteArrayInputStream(f, start, length));
      this.start = start;
      this.length = length;
    }

    int position() throws IOException {
      return start + length - in.available();
    }

    byte[] bytes() throws IOException {
      int n = readInt();
      if (n < 0 || n > in.available()) {
        throw new IOException("length " + n);
      }
      return readNBytes(n);
    }
  }

  private static int crc(byte[] b, int off, int len) {
    CRC32C c = new CRC32C();
    c.update(b, off, len);
    return (int) c.getValue();
  }
}
