package vmafs.image.partition;

import static org.junit.jupiter.api.Assertions.*;
import static vmafs.image.partition.TestTables.*;

import java.io.IOException;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import vmafs.image.SparseImage;
import vmafs.image.partition.PartitionTable.Scheme;

/** The reader on tables built in code: each test breaks one field and checks what is kept and said. */
class PartitionTablesTest {
  static final long DISK = 1 << 20; // sectors: a 512 MiB disk

  // ---- MBR

  @Test
  void readsPrimaryPartitions() throws IOException {
    SparseImage img = new SparseImage(DISK * 512);
    img.write(0, mbrSector(0x8462f2d3L, new MbrEntry(0x80, 0x83, 2048, 4096), entry(0x07, 6144, 8192)));
    PartitionTable t = PartitionTables.read(img);
    assertEquals(Scheme.MBR, t.scheme());
    assertEquals("0x8462f2d3", t.diskId());
    assertEquals(List.of(), t.problems());
    assertEquals(2, t.partitions().size());
    Partition p1 = t.partitions().get(0);
    assertEquals(new Partition(1, Partition.Kind.PRIMARY, 2048, 4096, 512, "0x83", "Linux", "", "8462f2d3-01", true), p1);
    assertEquals(2048L * 512, p1.start());
    assertEquals(4096L * 512, p1.size());
    Partition p2 = t.partitions().get(1);
    assertEquals("HPFS/NTFS/exFAT", p2.typeName());
    assertFalse(p2.bootable());
    assertEquals("8462f2d3-02", p2.uuid());
  }

  @Test
  void readsLogicalPartitionsThroughTheEbrChain() throws IOException {
    SparseImage img = mbrWithLogicals(DISK, 100_000, 200_000,
        new long[][] {{102_048, 10_000}, {120_000, 20_000}, {200_000, 50_000}}, entry(0x83, 2048, 4096));
    PartitionTable t = PartitionTables.read(img);
    assertEquals(List.of(), t.problems());
    assertEquals(List.of(1, 2, 5, 6, 7), t.partitions().stream().map(Partition::number).toList());
    assertEquals(Partition.Kind.EXTENDED, t.partitions().get(1).kind());
    assertEquals(List.of(1, 5, 6, 7), t.dataPartitions().stream().map(Partition::number).toList());
    Partition p6 = t.partitions().get(3);
    assertEquals(Partition.Kind.LOGICAL, p6.kind());
    assertEquals(120_000, p6.firstSector());
    assertEquals(20_000, p6.sectors());
    assertEquals("1234abcd-06", p6.uuid());
  }

  @Test
  void anEmptyExtendedPartitionIsNoProblem() throws IOException {
    SparseImage img = new SparseImage(DISK * 512);
    img.write(0, mbrSector(1, entry(0x0f, 2048, 10_000)));
    PartitionTable t = PartitionTables.read(img);
    assertEquals(List.of(), t.problems());
    assertEquals(List.of(), t.dataPartitions());
  }

  @Test
  void anEntryPastTheEndOfTheDiskIsRefused() throws IOException {
    SparseImage img = new SparseImage(DISK * 512);
    img.write(0, mbrSector(1, entry(0x83, 2048, 4096), entry(0x83, DISK - 100, 101)));
    PartitionTable t = PartitionTables.read(img);
    assertEquals(List.of(1), numbers(t));
    assertEquals(1, t.rejected().size());
    Rejected r = t.rejected().get(0);
    assertEquals(2, r.number());
    assertEquals(DISK - 100, r.firstSector());
    assertEquals(DISK, r.lastSector());
    assertEquals("MBR entry 2", r.why().field());
    assertEquals(446 + 16, r.why().offset());
    assertTrue(r.why().message().contains("not inside the disk (sectors 0.." + (DISK - 1) + ")"), r.why().message());
    assertEquals(List.of(r.why()), t.problems());
  }

  @Test
  void aTruncatedImageRefusesWhatLiesPastItsEnd() throws IOException {
    SparseImage whole = new SparseImage(DISK * 512);
    whole.write(0, mbrSector(1, entry(0x83, 2048, 4096), entry(0x83, 8192, DISK - 8192)));
    PartitionTable t = PartitionTables.read(whole.truncated(100_000L * 512 + 77));
    assertEquals(List.of(1), numbers(t));
    assertEquals(List.of(2), t.rejected().stream().map(Rejected::number).toList());
    assertTrue(t.rejected().get(0).why().message().contains("sectors 0..99999"), t.problems().toString());
  }

  @Test
  void anImageShorterThanASectorHasNoTable() throws IOException {
    SparseImage img = new SparseImage(511);
    img.write(0, new byte[] {1, 2, 3});
    assertEquals(PartitionTables.none(), PartitionTables.read(img));
    assertEquals(PartitionTables.none(), PartitionTables.read(new SparseImage(0)));
  }

  @Test
  void anEntryOverTheMbrIsRefused() throws IOException {
    SparseImage img = new SparseImage(DISK * 512);
    img.write(0, mbrSector(1, entry(0x83, 0, 4096), entry(0x83, 8192, 100)));
    PartitionTable t = PartitionTables.read(img);
    assertEquals(List.of(2), numbers(t));
    assertTrue(t.rejected().get(0).why().message().contains("covers the MBR at sector 0"), t.problems().toString());
  }

  @Test
  void overlappingPrimariesAreBothRefused() throws IOException {
    SparseImage img = new SparseImage(DISK * 512);
    img.write(0, mbrSector(1, entry(0x83, 2048, 4096), entry(0x83, 6143, 10), entry(0x83, 20_000, 10)));
    PartitionTable t = PartitionTables.read(img);
    assertEquals(List.of(3), numbers(t));
    assertEquals(List.of(1, 2), t.rejected().stream().map(Rejected::number).toList());
    assertTrue(t.rejected().get(0).why().message().contains("overlaps partition 2 (sectors 6143..6152)"),
        t.problems().toString());
    assertTrue(t.rejected().get(1).why().message().contains("overlaps partition 1 (sectors 2048..6143)"),
        t.problems().toString());
  }

  @Test
  void aPrimaryOverlappingTheExtendedPartitionIsRefusedWithIt() throws IOException {
    SparseImage img = mbrWithLogicals(DISK, 100_000, 200_000, new long[][] {{102_048, 10_000}},
        entry(0x83, 50_000, 51_000));
    PartitionTable t = PartitionTables.read(img);
    assertEquals(List.of(5), numbers(t), t.problems().toString());
    assertEquals(List.of(1, 2), t.rejected().stream().map(Rejected::number).sorted().toList());
  }

  @Test
  void anEbrLoopIsDetected() throws IOException {
    SparseImage img = mbrWithLogicals(DISK, 100_000, 200_000,
        new long[][] {{102_048, 10_000}, {120_000, 20_000}});
    // The second EBR links back to the first one.
    long secondEbr = 120_000 - 2048;
    img.write(secondEbr * 512, mbrSector(0, entry(0x83, 2048, 20_000), entry(0x05, 0, 200_000)));
    PartitionTable t = PartitionTables.read(img);
    assertEquals(List.of(5, 6), dataNumbers(t));
    assertEquals(1, t.problems().size(), t.problems().toString());
    Problem p = t.problems().get(0);
    assertEquals("EBR at sector " + secondEbr + " entry 2 first LBA", p.field());
    assertEquals(secondEbr * 512 + 446 + 16 + 8, p.offset());
    assertTrue(p.message().contains("loops back to sector 100000"), p.message());
  }

  @Test
  void anEbrLinkingToItselfIsALoop() throws IOException {
    SparseImage img = new SparseImage(DISK * 512);
    img.write(0, mbrSector(1, entry(0x05, 2048, 100_000)));
    img.write(2048L * 512, mbrSector(0, entry(0x83, 2048, 1000), entry(0x05, 0, 100_000)));
    PartitionTable t = PartitionTables.read(img);
    assertEquals(List.of(5), dataNumbers(t));
    assertTrue(t.problems().get(0).message().contains("loops back"), t.problems().toString());
  }

  @Test
  void aLongEbrChainStopsAtTheLimit() throws IOException {
    int n = 400;
    long[][] logicals = new long[n][];
    for (int i = 0; i < n; i++) {
      logicals[i] = new long[] {4096 + 2048 + i * 2200L, 100}; // each EBR 2048 sectors before its partition
    }
    SparseImage img = mbrWithLogicals(DISK, 4096, n * 2200L + 4096, logicals);
    PartitionTable t = PartitionTables.read(img);
    assertTrue(t.partitions().size() <= PartitionFormat.MAX_PARTITIONS, t.problems().toString());
    assertEquals(PartitionFormat.MAX_PARTITIONS - 1, t.dataPartitions().size(), t.problems().toString()); // 1 slot: the extended one
    assertTrue(t.problems().get(0).message().contains("more than 256 partitions"), t.problems().toString());
    assertTrue(img.reads() < 300 + 10, "reads " + img.reads());
  }

  @Test
  void aLogicalOutsideItsExtendedPartitionIsRefused() throws IOException {
    SparseImage img = new SparseImage(DISK * 512);
    img.write(0, mbrSector(1, entry(0x05, 2048, 10_000)));
    img.write(2048L * 512, mbrSector(0, entry(0x83, 2048, 20_000)));
    PartitionTable t = PartitionTables.read(img);
    assertEquals(List.of(), dataNumbers(t));
    Rejected r = t.rejected().get(0);
    assertEquals(5, r.number());
    assertEquals(Partition.Kind.LOGICAL, r.kind());
    assertEquals("EBR at sector 2048 entry 1", r.why().field());
    assertEquals(2048L * 512 + 446, r.why().offset());
    assertTrue(r.why().message().contains("not inside the extended partition 1 (sectors 2048..12047)"),
        r.why().message());
  }

  @Test
  void aLogicalCoveringTheNextEbrIsRefused() throws IOException {
    SparseImage img = mbrWithLogicals(DISK, 100_000, 200_000,
        new long[][] {{102_048, 10_000}, {120_000, 20_000}});
    // Logical 5 grown over the EBR of logical 6 (at 117952).
    img.write(100_000L * 512, mbrSector(0, entry(0x83, 2048, 17_000), entry(0x05, 120_000 - 2048 - 100_000, 22_048)));
    PartitionTable t = PartitionTables.read(img);
    assertEquals(List.of(6), dataNumbers(t));
    assertTrue(t.rejected().get(0).why().message().contains("covers the EBR at sector 117952"), t.problems().toString());
  }

  @Test
  void aLogicalOverItsOwnEbrIsRefused() throws IOException {
    SparseImage img = new SparseImage(DISK * 512);
    img.write(0, mbrSector(1, entry(0x05, 2048, 10_000)));
    img.write(2048L * 512, mbrSector(0, entry(0x83, 0, 1000)));
    PartitionTable t = PartitionTables.read(img);
    assertEquals(List.of(), dataNumbers(t));
    assertTrue(t.rejected().get(0).why().message().contains("covers the EBR at sector 2048"), t.problems().toString());
  }

  @Test
  void anEbrLinkOutsideTheExtendedPartitionEndsTheChain() throws IOException {
    SparseImage img = new SparseImage(DISK * 512);
    img.write(0, mbrSector(1, entry(0x05, 2048, 10_000)));
    img.write(2048L * 512, mbrSector(0, entry(0x83, 2048, 1000), entry(0x05, 50_000, 1000)));
    PartitionTable t = PartitionTables.read(img);
    assertEquals(List.of(5), dataNumbers(t));
    assertTrue(t.problems().get(0).message().contains("next EBR's sector 52048 is not inside the extended partition"),
        t.problems().toString());
  }

  @Test
  void anEbrWithoutSignatureEndsTheChain() throws IOException {
    SparseImage img = mbrWithLogicals(DISK, 100_000, 200_000,
        new long[][] {{102_048, 10_000}, {120_000, 20_000}});
    img.write((120_000 - 2048) * 512L + 510, new byte[] {0, 0});
    PartitionTable t = PartitionTables.read(img);
    assertEquals(List.of(5), dataNumbers(t));
    Problem p = t.problems().get(0);
    assertEquals("EBR at sector 117952", p.field());
    assertEquals(117952L * 512 + 510, p.offset());
    assertTrue(p.message().contains("no 55AA boot signature"), p.message());
  }

  @Test
  void onlyTheFirstExtendedPartitionIsFollowed() throws IOException {
    SparseImage img = new SparseImage(DISK * 512);
    img.write(0, mbrSector(1, entry(0x05, 2048, 10_000), entry(0x85, 20_000, 10_000)));
    img.write(2048L * 512, mbrSector(0, entry(0x83, 2048, 1000)));
    PartitionTable t = PartitionTables.read(img);
    assertEquals(List.of(5), dataNumbers(t));
    assertEquals(2, t.rejected().get(0).number());
    assertTrue(t.rejected().get(0).why().message().contains("second extended partition"), t.problems().toString());
  }

  @Test
  void aBootSectorWithInvalidBootFlagsIsNoTable() throws IOException {
    SparseImage img = new SparseImage(DISK * 512);
    img.write(0, mbrSector(1, new MbrEntry(0x33, 0x83, 2048, 4096)));
    assertEquals(PartitionTables.none(), PartitionTables.read(img));
  }

  @Test
  void aSectorWithoutBootSignatureIsNoTable() throws IOException {
    SparseImage img = new SparseImage(DISK * 512);
    byte[] s = mbrSector(1, entry(0x83, 2048, 4096));
    s[511] = 0;
    img.write(0, s);
    assertEquals(PartitionTables.none(), PartitionTables.read(img));
  }

  @Test
  void aStaleGptHeaderUnderAnMbrIsNamed() throws IOException {
    SparseImage img = new Gpt(DISK).add(0, LINUX_FS, 2048, 4095, "old").write();
    img.write(0, mbrSector(7, entry(0x83, 2048, 4096)));
    PartitionTable t = PartitionTables.read(img);
    assertEquals(Scheme.MBR, t.scheme());
    assertEquals(List.of(1), numbers(t));
    assertTrue(t.problems().get(0).message().contains("a GPT header is ignored"), t.problems().toString());
  }

  // ---- GPT

  @Test
  void readsAGpt() throws IOException {
    SparseImage img = new Gpt(DISK).add(0, EFI_SYSTEM, 2048, 206_847, "EFI system partition")
        .add(1, LINUX_FS, 206_848, 500_000, "root ü")
        .add(new GptEntry(4, MS_BASIC_DATA, "A96F66FE-C41F-465B-A59B-F8D3F8B636F2", 600_000, 700_000, 1L << 2, "data"))
        .write();
    PartitionTable t = PartitionTables.read(img);
    assertEquals(Scheme.GPT, t.scheme());
    assertEquals(512, t.sectorSize());
    assertEquals("40B53D65-5CD7-4DBB-B8AF-967AF71E6F32", t.diskId());
    assertEquals(List.of(), t.problems());
    assertEquals(List.of(1, 2, 5), numbers(t));
    Partition efi = t.partitions().get(0);
    assertEquals("EFI System", efi.typeName());
    assertEquals(EFI_SYSTEM, efi.type());
    assertEquals("EFI system partition", efi.name());
    assertEquals(2048, efi.firstSector());
    assertEquals(206_847 - 2048 + 1, efi.sectors());
    assertEquals("root ü", t.partitions().get(1).name());
    assertEquals("Linux filesystem", t.partitions().get(1).typeName());
    Partition data = t.partitions().get(2);
    assertEquals("Microsoft basic data", data.typeName());
    assertEquals("A96F66FE-C41F-465B-A59B-F8D3F8B636F2", data.uuid());
    assertTrue(data.bootable());
    assertEquals(Partition.Kind.GPT, data.kind());
  }

  @Test
  void aDamagedPrimaryHeaderFallsBackToTheBackup() throws IOException {
    SparseImage img = oneGpt();
    img.write(512 + 40, new byte[] {9}); // first usable LBA, CRC not resealed
    PartitionTable t = PartitionTables.read(img);
    assertEquals(List.of(1), numbers(t));
    assertEquals("primary GPT header CRC32", t.problems().get(0).field());
    assertEquals(512 + 16, t.problems().get(0).offset());
    assertTrue(t.problems().get(1).message().contains("the backup at LBA " + (DISK - 1) + " is used"),
        t.problems().toString());
  }

  @Test
  void damagedPrimaryEntriesFallBackToTheBackup() throws IOException {
    SparseImage img = oneGpt();
    img.write(1024 + 56, new byte[] {'X'}); // the name of entry 1, in the primary array only
    PartitionTable t = PartitionTables.read(img);
    assertEquals(List.of(1), numbers(t));
    assertEquals("a", t.partitions().get(0).name());
    Problem p = t.problems().get(0);
    assertEquals("primary GPT entries CRC32", p.field());
    assertEquals(512 + 88, p.offset());
  }

  @Test
  void withBothHeadersDamagedNothingIsExposed() throws IOException {
    SparseImage img = oneGpt();
    img.write(512 + 60, new byte[] {1}); // disk GUID of the primary
    img.write((DISK - 1) * 512 + 60, new byte[] {1}); // and of the backup
    PartitionTable t = PartitionTables.read(img);
    assertEquals(Scheme.GPT, t.scheme());
    assertEquals(List.of(), t.partitions());
    List<String> fields = t.problems().stream().map(Problem::field).toList();
    assertEquals(List.of("primary GPT header CRC32", "backup GPT header CRC32", "GPT"), fields);
    assertTrue(t.problems().get(2).message().contains("no partitions are exposed"));
  }

  @Test
  void anEntryPastTheUsableLbasIsRefused() throws IOException {
    Gpt g = new Gpt(DISK).add(0, LINUX_FS, 2048, 4095, "a").add(1, LINUX_FS, 8192, DISK - 10, "b");
    PartitionTable t = PartitionTables.read(g.write());
    assertEquals(List.of(1), numbers(t));
    Rejected r = t.rejected().get(0);
    assertEquals(2, r.number());
    assertEquals("GPT entry 2 first LBA", r.why().field());
    assertEquals(1024 + 128 + 32, r.why().offset());
    assertTrue(r.why().message().contains("not inside the usable LBAs 34.." + (DISK - 34)), r.why().message());
  }

  @Test
  void anEntryEndingBeforeItStartsIsRefused() throws IOException {
    PartitionTable t = PartitionTables.read(new Gpt(DISK).add(0, LINUX_FS, 4096, 2048, "a").write());
    assertEquals(List.of(), numbers(t));
    assertTrue(t.rejected().get(0).why().message().contains("first LBA 4096 is after the last LBA 2048"));
  }

  @Test
  void anEntryWithAHugeLbaIsRefused() throws IOException {
    PartitionTable t = PartitionTables.read(new Gpt(DISK).add(0, LINUX_FS, 2048, -1L, "a").write());
    assertEquals(List.of(), numbers(t));
    assertEquals(-1L, t.rejected().get(0).lastSector());
    assertTrue(t.rejected().get(0).why().message().contains("18446744073709551615"), t.problems().toString());
  }

  @Test
  void overlappingGptEntriesAreBothRefused() throws IOException {
    PartitionTable t = PartitionTables.read(new Gpt(DISK).add(0, LINUX_FS, 2048, 10_000, "a")
        .add(1, LINUX_FS, 10_000, 20_000, "b").add(2, LINUX_FS, 20_001, 30_000, "c").write());
    assertEquals(List.of(3), numbers(t));
    assertEquals(List.of(1, 2), t.rejected().stream().map(Rejected::number).toList());
  }

  @Test
  void aHugeEntryCountIsRefusedBeforeAnythingIsRead() throws IOException {
    SparseImage img = oneGpt();
    putU32(img, 512 + 80, 0xFFFF_FFFFL);
    resealHeader(img, 1, 512);
    PartitionTable t = PartitionTables.read(img);
    assertEquals(List.of(1), numbers(t), "from the backup");
    Problem p = t.problems().get(0);
    assertEquals("primary GPT header entry count", p.field());
    assertEquals(512 + 80, p.offset());
    assertTrue(p.message().contains("4294967295 entries of 128 bytes are more than the 1048576 bytes"), p.message());
    assertTrue(img.largestRead() <= 32 * 512, "largest read " + img.largestRead());
  }

  @Test
  void aLargeButAllowedEntryArrayIsRead() throws IOException {
    Gpt g = new Gpt(DISK);
    g.entryCount = 8192; // 1 MiB of entries: the limit
    g.firstUsable = 2 + g.arraySectors();
    g.lastUsable = DISK - 2 - g.arraySectors();
    g.add(8191, LINUX_FS, 10_000, 20_000, "last entry");
    SparseImage img = g.write();
    PartitionTable t = PartitionTables.read(img);
    assertEquals(List.of(8192), numbers(t), t.problems().toString());
    assertEquals(1 << 20, img.largestRead());
  }

  @Test
  void badEntrySizesAreRefused() throws IOException {
    for (long size : new long[] {0, 127, 192, 8192, 0x8000_0000L}) {
      SparseImage img = oneGpt();
      putU32(img, 512 + 84, size);
      resealHeader(img, 1, 512);
      PartitionTable t = PartitionTables.read(img);
      assertEquals("primary GPT header entry size", t.problems().get(0).field(), "size " + size);
      assertEquals(List.of(1), numbers(t), "from the backup, size " + size);
    }
  }

  @Test
  void entriesOutsideTheDiskAreRefused() throws IOException {
    SparseImage img = oneGpt();
    putU64(img, 512 + 72, DISK - 3);
    resealHeader(img, 1, 512);
    PartitionTable t = PartitionTables.read(img);
    assertEquals("primary GPT header entries LBA", t.problems().get(0).field());
    assertTrue(t.problems().get(0).message().contains("lie outside the disk"), t.problems().toString());
  }

  @Test
  void entriesInsideTheUsableLbasAreRefused() throws IOException {
    SparseImage img = oneGpt();
    putU64(img, 512 + 72, 3000);
    resealHeader(img, 1, 512);
    PartitionTable t = PartitionTables.read(img);
    assertTrue(t.problems().get(0).message().contains("overlap the usable LBAs"), t.problems().toString());
  }

  @Test
  void aWrongMyLbaIsRefused() throws IOException {
    SparseImage img = oneGpt();
    putU64(img, 512 + 24, 5);
    resealHeader(img, 1, 512);
    PartitionTable t = PartitionTables.read(img);
    assertEquals("primary GPT header my LBA", t.problems().get(0).field());
    assertEquals(List.of(1), numbers(t));
  }

  @Test
  void aBadHeaderSizeIsRefused() throws IOException {
    for (long size : new long[] {0, 91, 513, 0xFFFF_FFFFL}) {
      SparseImage img = oneGpt();
      putU32(img, 512 + 12, size);
      PartitionTable t = PartitionTables.read(img);
      assertEquals("primary GPT header size", t.problems().get(0).field(), "size " + size);
    }
  }

  @Test
  void emptyUsableLbasAreRefused() throws IOException {
    SparseImage img = new Gpt(DISK).write();
    putU64(img, 512 + 40, 5000);
    putU64(img, 512 + 48, 4000);
    resealHeader(img, 1, 512);
    assertEquals("primary GPT header first usable LBA", PartitionTables.read(img).problems().get(0).field());
  }

  @Test
  void aTruncatedGptImageExposesNothing() throws IOException {
    SparseImage img = oneGpt().truncated(DISK * 512 / 2);
    PartitionTable t = PartitionTables.read(img);
    assertEquals(List.of(), numbers(t));
    Problem p = t.problems().get(0);
    assertEquals("primary GPT header last usable LBA", p.field());
    assertTrue(p.message().contains("a truncated image?"), p.message());
  }

  @Test
  void aBackupHeaderNotAtTheEndIsNamedButHarmless() throws IOException {
    // A disk enlarged after partitioning: the backup stays at the old end.
    Gpt g = new Gpt(DISK / 2).add(0, LINUX_FS, 2048, 4095, "a");
    SparseImage img = new SparseImage(DISK * 512);
    img.write(0, mbrSector(0, entry(0xEE, 1, DISK / 2 - 1)));
    g.writeTo(img);
    PartitionTable t = PartitionTables.read(img);
    assertEquals(List.of(1), numbers(t));
    assertEquals(1, t.problems().size());
    assertTrue(t.problems().get(0).message().contains("the backup header is at LBA " + (DISK / 2 - 1)),
        t.problems().toString());
  }

  @Test
  void aDamagedBackupIsNamedAndThePrimaryUsed() throws IOException {
    SparseImage img = oneGpt();
    img.write((DISK - 1) * 512, new byte[8]); // no signature
    PartitionTable t = PartitionTables.read(img);
    assertEquals(List.of(1), numbers(t));
    assertEquals("backup GPT header signature", t.problems().get(0).field());
    assertTrue(t.problems().get(0).message().endsWith("the primary is used"));
  }

  @Test
  void aBackupThatDisagreesIsNamed() throws IOException {
    SparseImage img = oneGpt();
    putU32(img, (DISK - 1) * 512 + 88, 1234);
    resealHeader(img, DISK - 1, 512);
    PartitionTable t = PartitionTables.read(img);
    assertEquals(List.of(1), numbers(t));
    assertTrue(t.problems().get(0).message().contains("the backup's entries differ"), t.problems().toString());
  }

  @Test
  void reads4096ByteSectors() throws IOException {
    long sectors = DISK / 8;
    SparseImage img = new Gpt(sectors, 4096).add(0, LINUX_FS, 256, 2303, "four").write();
    PartitionTable t = PartitionTables.read(img);
    assertEquals(4096, t.sectorSize());
    assertEquals(List.of(), t.problems());
    Partition p = t.partitions().get(0);
    assertEquals(256L * 4096, p.start());
    assertEquals(2048L * 4096, p.size());
  }

  @Test
  void aGptWithoutProtectiveMbrIsReadWithANote() throws IOException {
    SparseImage img = oneGpt();
    img.write(0, new byte[512]);
    PartitionTable t = PartitionTables.read(img);
    assertEquals(List.of(1), numbers(t));
    assertEquals("MBR", t.problems().get(0).field());
  }

  @Test
  void aWipedPrimaryIsFoundThroughTheBackup() throws IOException {
    SparseImage img = oneGpt();
    img.write(512, new byte[512]);
    PartitionTable t = PartitionTables.read(img);
    assertEquals(List.of(1), numbers(t));
    assertEquals("primary GPT header signature", t.problems().get(0).field());
  }

  @Test
  void aHybridMbrIsNamedAndTheGptUsed() throws IOException {
    SparseImage img = oneGpt();
    img.write(0, mbrSector(0, entry(0xEE, 1, 2047), entry(0x83, 2048, 2048)));
    PartitionTable t = PartitionTables.read(img);
    assertEquals(Scheme.GPT, t.scheme());
    assertEquals(List.of(1), numbers(t));
    assertTrue(t.problems().get(0).message().contains("hybrid MBR"));
  }

  @Test
  void atMost256GptPartitionsAreKept() throws IOException {
    Gpt g = new Gpt(DISK);
    g.entryCount = 512;
    g.firstUsable = 2 + g.arraySectors();
    g.lastUsable = DISK - 2 - g.arraySectors();
    for (int i = 0; i < 512; i++) {
      g.add(i, LINUX_FS, 2048 + i * 10L, 2048 + i * 10L + 9, "p" + i);
    }
    PartitionTable t = PartitionTables.read(g.write());
    assertEquals(256, t.partitions().size());
    assertEquals(256, t.partitions().get(255).number());
    assertEquals(1, t.problems().size(), t.problems().toString());
    Problem p = t.problems().get(0);
    assertEquals("GPT entry 257", p.field());
    assertTrue(p.message().contains("more than 256 partitions"), p.message());
  }

  @Test
  void problemsAreCappedAndCounted() throws IOException {
    Gpt g = new Gpt(DISK);
    for (int i = 0; i < 100; i++) {
      g.add(i, LINUX_FS, 10, 5, "bad" + i); // each ends before it starts
    }
    PartitionTable t = PartitionTables.read(g.write());
    assertEquals(PartitionFormat.MAX_PROBLEMS, t.problems().size());
    assertEquals(100 - PartitionFormat.MAX_PROBLEMS, t.problemsOmitted());
    assertEquals(100, t.rejected().size());
  }

  @Test
  void controlCharactersInNamesAreReplaced() throws IOException {
    PartitionTable t = PartitionTables.read(new Gpt(DISK).add(0, LINUX_FS, 2048, 4095, "a\nb\u0007c").write());
    assertEquals("a?b?c", t.partitions().get(0).name());
  }

  @Test
  void aFullLengthNameHasNoTerminator() throws IOException {
    String name = "x".repeat(36);
    PartitionTable t = PartitionTables.read(new Gpt(DISK).add(0, LINUX_FS, 2048, 4095, name).write());
    assertEquals(name, t.partitions().get(0).name());
  }

  @Test
  void unknownTypesAreNamedUnknown() throws IOException {
    PartitionTable t = PartitionTables.read(new Gpt(DISK)
        .add(0, "11111111-2222-3333-4444-555555555555", 2048, 4095, "").write());
    assertEquals("unknown", t.partitions().get(0).typeName());
    assertEquals("11111111-2222-3333-4444-555555555555", t.partitions().get(0).type());
  }

  /** A GPT disk with one partition, p1 at sectors 2048..4095. */
  static SparseImage oneGpt() {
    return new Gpt(DISK).add(0, LINUX_FS, 2048, 4095, "a").write();
  }

  static List<Integer> numbers(PartitionTable t) {
    return t.partitions().stream().map(Partition::number).collect(Collectors.toList());
  }

  static List<Integer> dataNumbers(PartitionTable t) {
    return t.dataPartitions().stream().map(Partition::number).collect(Collectors.toList());
  }
}
