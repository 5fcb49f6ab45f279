package vmafs.source;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import vmafs.cache.BlockCache;
import vmafs.source.internal.MapCodec;
import vmafs.source.zstd.ZstdFrameMap;
import vmafs.source.zstd.ZstdRestartMap;
import vmafs.vma.index.IndexSection;
import vmafs.vma.io.ArchiveSource;
import vmafs.vma.testing.Fuzzing;

/**
 * The shared body of the decoder and source-map fuzz targets (docs/fuzzing.md).
 *
 * <p>Decoder targets: the crafted file goes through its {@link DecodePass}; if the pass verifies
 * it, its map is serialized and read back, opened, and every byte read at random must equal what
 * the pass produced: the pass vouched for the archive, so here any error, documented or not, and
 * any wrong byte is a finding. Decoded output is capped at {@link #MAX_OUTPUT}: a few KiB of zstd
 * legitimately expand to GiBs, which says nothing about the decoder.
 *
 * <p>Source-map targets: a crafted map of a fixed, valid archive is read and opened, and reads go
 * through it; only the {@link Fuzzing} rules apply, since a map is trusted once it parses (issue
 * #13, "saved index trusted blindly").
 */
public final class DecodeFuzzing {
  static final int MAX_OUTPUT = 4 << 20;
  /**
   * Small limits, so that small inputs reach spills, frame limits, gzip checkpoints and zstd
   * restart points (with a budget that keeps every point that verifies, and spans of at most 4
   * MiB, beyond which the stream is spilled).
   */
  static final DecodeOptions OPTIONS = DecodeOptions.defaults().withSpillMax(16 << 20)
      .withGzip(64 << 10, 1 << 20).withZstdMaxFrameSize(256 << 10).withZstdRestart(1.0, 4 << 20);
  private static final BlockCache CACHE = new BlockCache(8 << 20);

  private DecodeFuzzing() {}

  /** Where the pass of {@code archive} spills, and where its map's reader looks for the spill. */
  static Path spillOf(Path archive) {
    return archive.resolveSibling(archive.getFileName() + ".spill");
  }

  /** Runs {@code input} (magic bytes forced to {@code magic}, if given) through its decode pass. */
  public static void pass(Path dir, byte[] input, byte[] magic) throws Exception {
    byte[] file = input.clone();
    if (magic != null) {
      System.arraycopy(magic, 0, file, 0, Math.min(magic.length, file.length));
    }
    Path archive = dir.resolve("fuzz.vma-c");
    Files.write(archive, file);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    SourceMap[] map = new SourceMap[1];
    Fuzzing.check(() -> file.length + out.size(), Fuzzing.Budget.DECODER, () -> {
      try (DecodePass pass = DecodePass.open(archive, OPTIONS.withSpillFile(spillOf(archive)))) {
        if (copy(pass.stream(), out)) {
          map[0] = pass.finish();
        }
      }
    });
    byte[] stream = out.toByteArray();
    if (map[0] != null) {
      try {
        Fuzzing.check(file.length + stream.length, Fuzzing.Budget.DECODER,
            () -> readBack(archive, map[0], stream, spillOf(archive)));
      } finally {
        map[0].releaseScratch();
      }
    }
    if (ArchiveFormat.detect(file) == ArchiveFormat.ZSTD) {
      Fuzzing.check(file.length, Fuzzing.Budget.DECODER, () -> {
        var seekable = ZstdFrameMap.fromSeekTable(archive, OPTIONS.zstdMaxFrameSize());
        if (seekable.isPresent()) {
          if (map[0] instanceof ZstdFrameMap) {
            readBack(archive, seekable.get(), stream, spillOf(archive));
          } else {
            reads(archive, seekable.get());
          }
        }
      });
    }
  }

  /** Copies the stream; false if it is longer than {@link #MAX_OUTPUT}. */
  private static boolean copy(InputStream in, ByteArrayOutputStream out) throws IOException {
    byte[] buf = new byte[64 << 10];
    for (int n; (n = in.read(buf)) >= 0; ) {
      out.write(buf, 0, n);
      if (out.size() > MAX_OUTPUT) {
        return false;
      }
    }
    return true;
  }

  /** A map the pass made must round-trip and serve exactly the pass's bytes. */
  private static void readBack(Path archive, SourceMap map, byte[] stream, Path spill) {
    try {
      Map<String, byte[]> bytes = sectionBytes(map);
      SourceMap again = SourceMap.fromSections(sections(bytes, map), spill);
      Map<String, byte[]> back = sectionBytes(again);
      boolean same = bytes.keySet().equals(back.keySet())
          && bytes.keySet().stream().allMatch(k -> Arrays.equals(bytes.get(k), back.get(k)));
      if (!same || again.uncompressedSize() != stream.length) {
        throw new AssertionError("finding: the " + map.format() + " map does not round-trip");
      }
      try (ArchiveSource src = again.open(archive, CACHE)) {
        ByteBuffer buf = ByteBuffer.allocate(Math.min(stream.length, 3 << 16));
        long seed = Arrays.hashCode(stream);
        for (int i = 0; i < 12 && stream.length > 0; i++) {
          seed = seed * 6364136223846793005L + 1442695040888963407L;
          int at = (int) Math.floorMod(seed >>> 16, (long) stream.length);
          int len = (int) Math.min(stream.length - at, 1 + Math.floorMod(seed >>> 40, buf.capacity()));
          buf.clear().limit(len);
          src.readFully(at, buf);
          if (!Arrays.equals(buf.array(), 0, len, stream, at, at + len)) {
            throw new AssertionError("finding: " + len + " bytes at " + at + " read through the "
                + map.format() + " map differ from what the decode pass produced");
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      throw new AssertionError("finding: an archive its decode pass verified fails a random read: " + e, e);
    }
  }

  /** What the index would save of {@code map}, section by section. */
  static Map<String, byte[]> sectionBytes(SourceMap map) throws IOException {
    Map<String, byte[]> out = new LinkedHashMap<>();
    for (Map.Entry<String, IndexSection.ToSave> e : map.sections().entrySet()) {
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      e.getValue().content().writeTo(b);
      out.put(e.getKey(), b.toByteArray());
    }
    return out;
  }

  /** {@code bytes} as a loaded index would hand them over, each with the check {@code map} asks. */
  private static Map<String, IndexSection> sections(Map<String, byte[]> bytes, SourceMap map) {
    Map<String, IndexSection> out = new LinkedHashMap<>();
    Map<String, IndexSection.ToSave> asked = map.sections();
    bytes.forEach((k, v) -> out.put(k, IndexSection.of(ByteBuffer.wrap(v), asked.get(k).check())));
    return out;
  }

  /**
   * A map's sections as one input of the restart-map target: {@code u32 n}, then per section
   * {@code u32 length} and its bytes, in {@link SourceMap#sections()} order (map, prefixes).
   */
  static byte[] packSections(SourceMap map) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    java.io.DataOutputStream d = new java.io.DataOutputStream(out);
    Map<String, byte[]> sections = sectionBytes(map);
    d.writeInt(sections.size());
    for (byte[] b : sections.values()) {
      d.writeInt(b.length);
      d.write(b);
    }
    return out.toByteArray();
  }

  /**
   * The restart-map target body: {@code input} unpacked as {@link #packSections} packs (missing
   * sections empty, the map's kind byte forced), parsed with the prefix section checked by its
   * reader as a loaded index hands it over, opened on {@code archive} and read.
   */
  public static void restartMap(Path archive, byte[] input) {
    ByteBuffer in = ByteBuffer.wrap(input);
    byte[][] parts = new byte[2][];
    int at = Math.min(4, input.length); // the count: always two sections here; lengths clamped
    for (int i = 0; i < parts.length; i++) {
      int len = at + 4 <= input.length ? in.getInt(at) : 0;
      at = Math.min(input.length, at + 4);
      len = (int) Math.max(0, Math.min(len & 0xffffffffL, input.length - at));
      parts[i] = Arrays.copyOfRange(input, at, at + len);
      at += len;
    }
    if (parts[0].length > 6) {
      parts[0][6] = (byte) MapCodec.KIND_ZSTD_RESTART;
    }
    Map<String, IndexSection> sections = new LinkedHashMap<>();
    sections.put(SourceMap.SECTION, IndexSection.of(ByteBuffer.wrap(parts[0])));
    sections.put(ZstdRestartMap.PREFIX_SECTION,
        IndexSection.of(ByteBuffer.wrap(parts[1]), IndexSection.Check.BY_READER));
    long archiveSize = archive.toFile().length();
    Fuzzing.check(input.length + archiveSize, Fuzzing.Budget.DECODER, () -> {
      SourceMap m = SourceMap.fromSections(sections, spillOf(archive));
      Map<String, byte[]> again = sectionBytes(m);
      if (!Arrays.equals(again.get(SourceMap.SECTION), sectionBytes(SourceMap.fromSections(
          sections(again, m), spillOf(archive))).get(SourceMap.SECTION))) {
        throw new AssertionError("finding: a restart map that parsed does not round-trip");
      }
      if ((Arrays.hashCode(input) & 3) == 0) {
        reads(archive, m);
      }
    });
  }

  /** Reads through a source of unknown truth: only the documented errors may come out. */
  static void reads(Path archive, SourceMap map) throws IOException {
    try (ArchiveSource src = map.open(archive, CACHE)) {
      long size = src.size();
      ByteBuffer buf = ByteBuffer.allocate(64 << 10);
      for (long at : new long[] {size / 2, size - 70_000}) {
        if (at < 0 || at >= size) {
          continue;
        }
        buf.clear().limit((int) Math.min(buf.capacity(), size - at));
        src.readFully(at, buf);
      }
    }
  }

  /**
   * A fixed archive from the test resources (next to the seeds), copied into {@code dir}: what
   * the source-map targets open their crafted maps against.
   */
  public static Path resource(Path dir, String name) {
    try (InputStream in = DecodeFuzzing.class.getResourceAsStream("fuzz/" + name)) {
      if (in == null) {
        throw new IllegalStateException("missing test resource vmafs/source/fuzz/" + name);
      }
      Path p = dir.resolve(name);
      Files.write(p, in.readAllBytes());
      return p;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /**
   * The source-map target body: {@code input} as a map of {@code kind} (or of any kind, if
   * negative), opened on {@code archive}.
   */
  public static void map(Path archive, byte[] input, int kind) {
    byte[] bytes = input.clone();
    if (kind >= 0 && bytes.length > 6) {
      bytes[6] = (byte) kind; // stay on this target's codec
    }
    // Reads decode whole blocks of the archive: those are what the input holds, besides the map.
    long archiveSize = archive.toFile().length();
    Fuzzing.check(bytes.length + archiveSize, Fuzzing.Budget.DECODER, () -> {
      // A map names no spill file (issue #13): the reader says where it is, here beside the archive.
      SourceMap m = SourceMap.fromBytes(ByteBuffer.wrap(bytes), spillOf(archive));
      byte[] again = m.toBytes();
      if (!Arrays.equals(again, SourceMap.fromBytes(ByteBuffer.wrap(again), spillOf(archive)).toBytes())) {
        throw new AssertionError("finding: a map that parsed does not round-trip");
      }
      // Opening and reading decodes whole blocks (up to 1 ms each): done for a quarter of the
      // inputs, chosen by their bytes, so the codec itself is fuzzed at thousands per second.
      if ((Arrays.hashCode(bytes) & 3) == 0) {
        reads(archive, m);
      }
    });
  }
}
