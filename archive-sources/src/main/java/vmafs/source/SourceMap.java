package vmafs.source;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Map;
import vmafs.cache.BlockCache;
import vmafs.source.internal.MapCodec;
import vmafs.source.internal.OwningSource;
import vmafs.vma.index.IndexSection;
import vmafs.vma.io.ArchiveSource;
import vmafs.vma.io.LocalStoredBytes;
import vmafs.vma.io.StoredBytes;

/**
 * What random access into one archive needs, as learned by its {@link DecodePass}: an lzop block
 * map, gzip checkpoints, a zstd frame table, zstd restart points, or the location of a spill file.
 * Persist it as the index {@link #sections()} and turn it back into a source with {@link
 * #fromSections} (or, for maps that are one section, {@link #fromBytes}) and {@link #open}.
 */
public interface SourceMap {

  /** The index section holding the map itself (other sections hold large payloads). */
  String SECTION = "source-map";

  ArchiveFormat format();

  /** Length of the decompressed (VMA) stream. */
  long uncompressedSize();

  /** Length of the archive file this map was made from; {@link #open} refuses any other size. */
  long archiveSize();

  /**
   * Whether reads go to the archive itself. False when (part of) the stream is served from a spill
   * file, which then has to exist for {@link #open} to work.
   */
  default boolean isRandomAccessible() {
    return true;
  }

  /**
   * A thread-safe source over the decompressed stream. Decoded blocks go through {@code cache};
   * sources that read a plain file (raw VMA, spill) do not use it.
   */
  ArchiveSource open(StoredBytes archive, BlockCache cache) throws IOException;

  /**
   * {@link #open(StoredBytes, BlockCache)} over a local file that the returned source owns
   * (closed with it); for tools and tests.
   */
  default ArchiveSource open(Path archive, BlockCache cache) throws IOException {
    LocalStoredBytes stored = LocalStoredBytes.open(archive);
    try {
      return new OwningSource(open(stored, cache), stored);
    } catch (IOException | RuntimeException e) {
      stored.close();
      throw e;
    }
  }

  /** How reads are served, for {@code info --json} and logs. */
  RandomAccess randomAccess();

  /** Versioned, compact serialization, streamed; see {@link MapCodec}. */
  void writeTo(OutputStream out) throws IOException;

  /** {@link #writeTo} into an array (small maps, tests). */
  default byte[] toBytes() {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    try {
      writeTo(b);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
    }
    return b.toByteArray();
  }

  /**
   * What to save with the index: {@link #SECTION}, checked on load, and any large payload in
   * sections of its own, streamed from where the pass keeps them.
   */
  default Map<String, IndexSection.ToSave> sections() {
    return Map.of(SECTION, IndexSection.ToSave.checkedOnLoad(this::writeTo));
  }

  /**
   * Frees what only the pass needed to hand this map over (a scratch file of restart prefixes);
   * call once the map has been saved and is served from the saved sections instead.
   */
  default void releaseScratch() throws IOException {}

  /**
   * Reads a map written by {@link #toBytes()}. Large payloads (gzip windows) stay in {@code in}
   * and are read from it on demand, so a memory-mapped buffer is not copied onto the heap; the
   * buffer must therefore stay valid and unmodified while the map is in use.
   */
  static SourceMap fromBytes(ByteBuffer in) throws IOException {
    return MapCodec.read(in, null, Map.of());
  }

  /**
   * As {@link #fromBytes(ByteBuffer)} for a map whose stream may live (in part) in a spill file:
   * {@code spill} is where it is. The map itself names no file, so whoever can write a map cannot
   * point its reader at one.
   */
  static SourceMap fromBytes(ByteBuffer in, Path spill) throws IOException {
    return MapCodec.read(in, spill, Map.of());
  }

  /**
   * Reads a map saved as {@link #sections()}, its spill (if any) at {@code spill}; as for {@link
   * #fromBytes}, large payloads are read from the given sections on demand, which must stay valid
   * while the map is in use.
   */
  static SourceMap fromSections(Map<String, IndexSection> sections, Path spill)
      throws IOException {
    IndexSection main = sections.get(SECTION);
    if (main == null) {
      throw new IOException("the index has no " + SECTION + " section");
    }
    if (main.check() != IndexSection.Check.ON_LOAD) {
      // The map's own fields (spans, chunk CRCs) are what every later check relies on.
      throw new IOException("the index's " + SECTION + " section is not checked on load");
    }
    return MapCodec.read(main.buffer(), spill, sections);
  }
}
