package vmafs.vma.fuzz;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import vmafs.vma.Progress;
import vmafs.vma.VmaStreamReader;
import vmafs.vma.index.ArchiveIdentity;
import vmafs.vma.index.ExtentIndex;
import vmafs.vma.index.ExtentIndexBuilder;
import vmafs.vma.index.IndexFile;
import vmafs.vma.index.IndexSection;
import vmafs.vma.testing.ArchiveBytes;
import vmafs.vma.testing.Defects;
import vmafs.vma.testing.FuzzSeeds;

/**
 * Writes the seed corpus of the VMA fuzz targets from the test fixtures into the source tree (the
 * files are committed; this only runs on request):
 * {@code mvn -o -q test -pl vma-index -am -Dtest=FuzzSeedsTest -Dsurefire.failIfNoSpecifiedTests=false
 * -Dvmafs.fuzz.skip=true -Dvmafs.fuzz.seeds=$PWD/vma-index/src/test/resources}.
 */
class FuzzSeedsTest {

  @Test
  @EnabledIfSystemProperty(named = "vmafs.fuzz.seeds", matches = ".+")
  void writeSeeds() throws IOException {
    Path root = Path.of(System.getProperty("vmafs.fuzz.seeds"));
    Path header = dir(root, "vmafs/vma/fuzz/VmaHeaderFuzzTestInputs/fuzz");
    Path stream = dir(root, "vmafs/vma/fuzz/VmaStreamFuzzTestInputs/fuzz");
    for (Map.Entry<String, ArchiveBytes> e : FuzzSeeds.archives().entrySet()) {
      byte[] b = e.getValue().bytes();
      boolean headerDefect = Defects.all().anyMatch(d -> e.getKey().equals("defect-" + d.name()) && d.inHeader());
      if (!headerDefect) {
        Files.write(stream.resolve(e.getKey()), b);
      }
      // The header target needs the header and the first extent headers, not all the data.
      Files.write(header.resolve(e.getKey()), java.util.Arrays.copyOf(b, Math.min(b.length, 16_384)));
    }
    Path index = dir(root, "vmafs/vma/index/IndexFileFuzzTestInputs/fuzz");
    writeIndex(index.resolve("good-archive"), Defects.goodArchive().bytes(), Map.of());
    Map<String, IndexSection.ToSave> sections = new java.util.LinkedHashMap<>();
    sections.put("source-map", IndexSection.ToSave.of("VMSF...".getBytes(StandardCharsets.US_ASCII)));
    sections.put("empty", IndexSection.ToSave.of(new byte[0]));
    writeIndex(index.resolve("good-archive-with-sections"), Defects.goodArchive().bytes(), sections);
    // A section the loader leaves to its reader (as zstd restart prefixes are): not read on load.
    byte[] prefixes = new byte[9000];
    new java.util.SplittableRandom(11).nextBytes(prefixes);
    sections.put("zstd-restart-prefixes", IndexSection.ToSave.checkedByReader(out -> out.write(prefixes)));
    writeIndex(index.resolve("good-archive-with-a-reader-checked-section"),
        Defects.goodArchive().bytes(), sections);
  }

  private static void writeIndex(Path target, byte[] archive,
      Map<String, IndexSection.ToSave> sections) throws IOException {
    Path tmp = Files.createTempDirectory("vmafs-seeds");
    Path index = tmp.resolve("a.vmafs-index");
    VmaStreamReader r = VmaStreamReader.open(new java.io.ByteArrayInputStream(archive));
    try (IndexFile.Writer w = new IndexFile.Writer(index, r.header());
        ExtentIndex built = ExtentIndexBuilder.build(r, w.tables(), Progress.NONE)) {
      w.commit(built, new ArchiveIdentity(archive.length, 1_700_000_000_000L, new byte[32]), sections);
    }
    Files.move(index, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Files.delete(tmp);
  }

  private static Path dir(Path root, String rel) throws IOException {
    return Files.createDirectories(root.resolve(rel));
  }
}
