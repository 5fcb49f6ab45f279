package vmafs.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.io.TempDir;
import vmafs.cache.BlockCache;
import vmafs.source.zstd.SeekableZstdWriter;
import vmafs.vma.io.ArchiveSource;

/**
 * Damaged archives must give an {@link IOException} that names a compressed offset, never wrong
 * bytes: during the decode pass (flipped byte, truncation, trailing garbage) and on random reads
 * through a map made before the damage.
 */
class CorruptionTest {
  private static final Pattern NAMES_OFFSET = Pattern.compile("offsets? \\d+");

  @TempDir Path tmp;

  static Stream<Arguments> archives() throws IOException {
    return Stream.of(
        Arguments.of("lzo", TestArchives.lzop()),
        Arguments.of("gz", TestArchives.gzip()),
        Arguments.of("zst", TestArchives.zstd()),
        Arguments.of("seekable.zst", seekable()));
  }

  private static Path seekable() throws IOException {
    Path p = TestArchives.dir().resolve("data.seekable.zst");
    if (!Files.exists(p)) {
      byte[] data = TestArchives.data();
      Path t = TestArchives.dir().resolve("data.seekable.zst.tmp");
      try (SeekableZstdWriter w = new SeekableZstdWriter(Files.newOutputStream(t))) {
        for (int pos = 0; pos < data.length; pos += 1 << 20) {
          w.write(data, pos, Math.min(1 << 20, data.length - pos));
          w.endFrame();
        }
      }
      Files.move(t, p);
    }
    return p;
  }

  private DecodeOptions options() {
    return DecodeOptions.defaults().withSpillFile(tmp.resolve("cache").resolve("a.spill"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("archives")
  void flippedByteFailsThePass(String kind, Path original) throws Exception {
    Path bad = TestArchives.copy(original, tmp, "flipped." + kind);
    flip(bad, Files.size(bad) / 2);
    assertPassFails(bad);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("archives")
  void truncationFailsThePass(String kind, Path original) throws Exception {
    Path bad = TestArchives.copy(original, tmp, "cut." + kind);
    try (FileChannel ch = FileChannel.open(bad, StandardOpenOption.WRITE)) {
      ch.truncate(ch.size() - 1000);
    }
    assertPassFails(bad);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("archives")
  void trailingGarbageFailsThePass(String kind, Path original) throws Exception {
    Path bad = TestArchives.copy(original, tmp, "garbage." + kind);
    try (OutputStream out = Files.newOutputStream(bad, StandardOpenOption.APPEND)) {
      out.write("this is not compressed data".getBytes());
    }
    assertPassFails(bad);
  }

  /** The map is made from the good archive; then the archive is damaged in place. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("archives")
  void damageAfterIndexingFailsReadsNotReturnsWrongData(String kind, Path original) throws Exception {
    if (kind.equals("zst")) {
      return; // served from the spill file; the archive is not read again
    }
    Path archive = TestArchives.copy(original, tmp, "later." + kind);
    SourceMap map;
    try (DecodePass pass = DecodePass.open(archive, options())) {
      map = pass.finish();
    }
    // Damage several places so that both stored and compressed blocks are hit.
    long size = Files.size(archive);
    byte[] data = TestArchives.data();
    int failures = 0;
    for (int k = 1; k <= 6; k++) {
      flip(archive, size * k / 7);
    }
    try (ArchiveSource src = map.open(archive, new BlockCache(1 << 20))) {
      for (long pos = 0; pos < data.length; pos += 64 << 10) {
        ByteBuffer b = ByteBuffer.allocate((int) Math.min(64 << 10, data.length - pos));
        try {
          src.readFully(pos, b);
        } catch (IOException e) {
          failures++;
          CorruptArchiveException c = assertInstanceOf(CorruptArchiveException.class, e);
          assertTrue(c.offset() >= 0 && c.offset() < size, "names a compressed offset: " + e.getMessage());
          assertEquals(archive.toString(), c.archive());
          continue;
        }
        assertTrue(java.util.Arrays.equals(b.array(), 0, b.capacity(), data, (int) pos,
            (int) pos + b.capacity()), "wrong data served at " + pos);
      }
    }
    assertTrue(failures > 0, "damage went unnoticed");
  }

  private void assertPassFails(Path bad) throws IOException {
    IOException e = assertThrows(IOException.class, () -> {
      try (DecodePass pass = DecodePass.open(bad, options())) {
        try (InputStream in = pass.stream()) {
          in.transferTo(OutputStream.nullOutputStream());
        }
        pass.finish();
      }
    });
    String msg = e.getMessage() + (e.getCause() == null ? "" : " / " + e.getCause().getMessage());
    assertTrue(NAMES_OFFSET.matcher(msg).find(), "message should name an offset: " + msg);
    if (e instanceof CorruptArchiveException c) { // truncation is an EOFException
      assertTrue(c.offset() >= 0 && c.offset() <= Files.size(bad), msg);
    }
  }

  private static void flip(Path p, long at) throws IOException {
    TestArchives.flip(p, at, 0x5a);
  }
}
