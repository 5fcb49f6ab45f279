package vmafs.archive;

import static vmafs.vma.VmaFormat.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import vmafs.cache.BlockCache;
import vmafs.source.ArchiveFormat;
import vmafs.source.DecodeOptions;
import vmafs.source.DecodePass;
import vmafs.source.RandomAccess;
import vmafs.source.SourceMap;
import vmafs.source.ZstdFrameMap;
import vmafs.vma.DeviceInfo;
import vmafs.vma.Progress;
import vmafs.vma.VmaStreamReader;
import vmafs.vma.index.ArchiveIdentity;
import vmafs.vma.index.ExtentIndex;
import vmafs.vma.index.ExtentIndexBuilder;
import vmafs.vma.index.IndexFile;
import vmafs.vma.index.IndexSection;
import vmafs.vma.index.StaleIndexException;
import vmafs.vma.io.ArchiveSource;
import vmafs.vma.io.ChannelInputStream;
import vmafs.vma.io.FileArchiveSource;

/**
 * Opens an archive file of any supported compression: reuses its saved index when it still
 * describes the archive, else builds the index in one pass and saves it (with what random access
 * into the compressed file needs). Configure, then call {@link #open}.
 */
public final class ArchiveOpener {
  private static final Logger log = LoggerFactory.getLogger(ArchiveOpener.class);
  private static final int SCAN_BUFFER = 1 << 20;

  private Progress progress = Progress.NONE;
  private Path indexFile;
  private boolean reindex;
  private boolean ignoreMtime;
  private boolean saveIndex = true;
  private long cacheBytes = BlockCache.DEFAULT_MAX_BYTES;
  private long spillMax = Long.MAX_VALUE;
  private boolean forceSpill;
  private boolean indexOnly;

  /** How the index was obtained, for messages and {@code info}. */
  public enum IndexOrigin { LOADED, BUILT_AND_SAVED, BUILT_IN_MEMORY, EMBEDDED }

  /** Progress of an index pass, in bytes of the archive file. */
  public ArchiveOpener progress(Progress progress) {
    this.progress = progress;
    return this;
  }

  /** Use this index file instead of the default location. */
  public ArchiveOpener indexFile(Path indexFile) {
    this.indexFile = indexFile;
    return this;
  }

  /** Ignore any saved index and build a new one. */
  public ArchiveOpener reindex(boolean reindex) {
    this.reindex = reindex;
    return this;
  }

  /** Accept a saved index whose archive has another mtime (a copied archive). */
  public ArchiveOpener ignoreMtime(boolean ignoreMtime) {
    this.ignoreMtime = ignoreMtime;
    return this;
  }

  /** Whether to save a newly built index (default yes). */
  public ArchiveOpener saveIndex(boolean saveIndex) {
    this.saveIndex = saveIndex;
    return this;
  }

  /** Bytes of decompressed blocks kept in memory (compressed archives). */
  public ArchiveOpener cacheBytes(long cacheBytes) {
    this.cacheBytes = cacheBytes;
    return this;
  }

  /** The most a spill file (single-frame zstd, gzip without restart points) may hold. */
  public ArchiveOpener spillMax(long spillMax) {
    this.spillMax = spillMax;
    return this;
  }

  /**
   * Decode a compressed archive into a spill file even where it could be read at random ({@code
   * --spill}: the fastest random reads, for disk space the size of the data). A saved index that
   * reads the archive otherwise is rebuilt.
   */
  public ArchiveOpener forceSpill(boolean forceSpill) {
    this.forceSpill = forceSpill;
    return this;
  }

  /**
   * The caller needs the index but no reads of the data ({@code info}): a compressed archive
   * without a saved index is decoded as a plain stream, with no spill file and no block map.
   */
  public ArchiveOpener indexOnly(boolean indexOnly) {
    this.indexOnly = indexOnly;
    return this;
  }

  public Archive open(Path path) throws IOException {
    ArchiveFormat format = ArchiveFormat.detect(path);
    Path target = indexFile != null ? indexFile : IndexLocation.forArchive(path);
    ArchiveIdentity identity = ArchiveIdentity.of(path);
    BlockCache cache = new BlockCache(cacheBytes);
    if (!reindex && Files.exists(target)) {
      try {
        IndexFile.Loaded loaded = IndexFile.load(target, identity, ignoreMtime);
        Reads reads = openSource(format, path, loaded.sections(), cache);
        log.info("using saved index {}", target);
        return new Archive(path, loaded.index(), reads.source(), name(format), target,
            IndexOrigin.LOADED, reads.access());
      } catch (StaleIndexException e) {
        log.warn("saved index {} is not usable ({}); {}", target, e.getMessage(),
            saveIndex ? "rebuilding it" : "indexing the archive again (run 'vmafs index' to refresh the saved one)");
      }
    }
    if (format == ArchiveFormat.ZSTD && !reindex) {
      Archive a = adoptEmbedded(path, identity, target, cache);
      if (a != null) {
        return a;
      }
    }
    return build(path, format, identity, target, cache);
  }

  /**
   * A seekable .vma.zst made by {@code vmafs convert} carries its own index: unpack it beside the
   * archive, give it this file's identity, and serve reads through the seek table. No decode pass.
   *
   * @return null when the archive has no (usable) embedded index
   */
  private Archive adoptEmbedded(Path path, ArchiveIdentity identity, Path target, BlockCache cache)
      throws IOException {
    Optional<ZstdFrameMap> frames = ZstdFrameMap.fromSeekTable(path, DecodeOptions.DEFAULT_ZSTD_MAX_FRAME);
    if (frames.isEmpty()) {
      return null;
    }
    Optional<byte[]> payload = frames.get().skippablePayload(path, EmbeddedIndex.NIBBLE);
    if (payload.isEmpty()) {
      return null;
    }
    Path file = saveIndex ? target : Files.createTempFile("vmafs-embedded-", ".vmafs-index");
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp-" + ProcessHandle.current().pid());
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      Files.write(tmp, EmbeddedIndex.unpack(payload.get()));
      IndexFile.adopt(tmp, identity);
      IndexFile.Loaded loaded = IndexFile.load(tmp, identity, false);
      Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
          java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      log.info("using the index embedded in {}", path);
      return new Archive(path, loaded.index(), frames.get().open(path, cache), name(ArchiveFormat.ZSTD),
          saveIndex ? file : null, IndexOrigin.EMBEDDED, frames.get().randomAccess());
    } catch (StaleIndexException e) {
      log.warn("the index embedded in {} is not usable ({}); decoding the archive instead", path,
          e.getMessage());
      return null;
    } finally {
      Files.deleteIfExists(tmp);
      if (!saveIndex) {
        Files.deleteIfExists(file); // the mapping stays valid after the unlink
      }
    }
  }

  /** How an opened archive's stream is read. */
  private record Reads(ArchiveSource source, RandomAccess access) {}

  private Reads openSource(ArchiveFormat format, Path path, Map<String, IndexSection> sections,
      BlockCache cache) throws IOException {
    if (format == ArchiveFormat.RAW_VMA) {
      return new Reads(FileArchiveSource.open(path), RAW_ACCESS);
    }
    if (!sections.containsKey(SourceMap.SECTION) && format == ArchiveFormat.ZSTD && !forceSpill) {
      // An index adopted from a seekable archive: its seek table is the map.
      Optional<ZstdFrameMap> frames = ZstdFrameMap.fromSeekTable(path, DecodeOptions.DEFAULT_ZSTD_MAX_FRAME);
      if (frames.isPresent()) {
        return new Reads(frames.get().open(path, cache), frames.get().randomAccess());
      }
    }
    if (!sections.containsKey(SourceMap.SECTION)) {
      throw new StaleIndexException("it has no map of the compressed archive");
    }
    try {
      SourceMap map = SourceMap.fromSections(sections);
      if (forceSpill && map.isRandomAccessible()) {
        throw new StaleIndexException("it reads the archive in place and --spill asks for a spill file");
      }
      return new Reads(map.open(path, cache), map.randomAccess());
    } catch (StaleIndexException e) {
      throw e;
    } catch (IOException e) {
      // e.g. the spill file was deleted: the index alone is not enough, so rebuild both
      throw new StaleIndexException(e.getMessage());
    }
  }

  private Archive build(Path path, ArchiveFormat format, ArchiveIdentity identity, Path target,
      BlockCache cache) throws IOException {
    if (format == ArchiveFormat.RAW_VMA) {
      // Uncompressed: read the extent headers, skip the data.
      FileArchiveSource source = FileArchiveSource.open(path);
      try {
        VmaStreamReader reader =
            VmaStreamReader.open(new ChannelInputStream(source.channel(), 0, SCAN_BUFFER));
        return indexAndSave(path, identity, target, reader, progress, () -> null, source, cache,
            name(format));
      } catch (IOException | RuntimeException e) {
        source.close();
        throw e;
      }
    }
    // Compressed: one decode pass yields both the VMA index and the map for random access.
    DecodeOptions options = DecodeOptions.defaults()
        .withSpillDir(target.toAbsolutePath().getParent()).withSpillMax(spillMax)
        .withForceSpill(forceSpill)
        .withProgress((done, total) -> progress.update(done));
    if (indexOnly) {
      try (DecodePass pass = DecodePass.open(path, options.withStreamOnly())) {
        // Progress comes from the decode pass, in compressed bytes.
        ExtentIndex index = ExtentIndexBuilder.build(VmaStreamReader.open(pass.stream()), Progress.NONE);
        pass.stream().transferTo(java.io.OutputStream.nullOutputStream()); // verifies the end
        return new Archive(path, index, new NoReads(path), name(format), null,
            IndexOrigin.BUILT_IN_MEMORY, null);
      }
    }
    try (DecodePass pass = DecodePass.open(path, options)) {
      VmaStreamReader reader = VmaStreamReader.open(pass.stream());
      pass.expectUncompressedAtMost(streamBound(reader));
      return indexAndSave(path, identity, target, reader, Progress.NONE, pass::finish, null, cache,
          name(format));
    }
  }

  /** The source of an archive opened for its index only. */
  private record NoReads(Path path) implements ArchiveSource {
    @Override
    public void readFully(long position, ByteBuffer dst) throws IOException {
      throw new IllegalStateException(path + " was opened for its index only");
    }

    @Override
    public long size() {
      return -1;
    }

    @Override
    public String name() {
      return path.toString();
    }

    @Override
    public void close() {}
  }

  /** Ends the pass; the map of a compressed archive, or null for an uncompressed one. */
  private interface AfterPass {
    SourceMap finish() throws IOException;
  }

  /**
   * Builds the index from {@code reader}, finishes the pass and saves both; reads then go
   * through the map as saved (so a first mount reads what a remount will), or through the map in
   * memory if the index could not be saved.
   *
   * @param rawSource the source of an uncompressed archive (its map is null)
   */
  private Archive indexAndSave(Path path, ArchiveIdentity identity, Path target,
      VmaStreamReader reader, Progress passProgress, AfterPass afterPass, ArchiveSource rawSource,
      BlockCache cache, String compression) throws IOException {
    IndexFile.Writer writer = saveIndex ? openWriter(target, reader) : null;
    try {
      ExtentIndex index = writer != null
          ? ExtentIndexBuilder.build(reader, writer.tables(), passProgress)
          : ExtentIndexBuilder.build(reader, passProgress);
      SourceMap map = afterPass.finish();
      RandomAccess access = map == null ? RAW_ACCESS : map.randomAccess();
      if (writer != null) {
        try {
          Map<String, IndexSection> saved =
              writer.commit(index, identity, map == null ? Map.of() : map.sections());
          log.info("saved index {}", target);
          ArchiveSource source = map == null ? rawSource : openSaved(map, saved, path, cache);
          return new Archive(path, index, source, compression, target, IndexOrigin.BUILT_AND_SAVED,
              access);
        } catch (IOException ex) {
          log.warn("could not save the index to {} ({}); it is kept in memory only", target,
              ex.getMessage());
        }
      }
      ArchiveSource source = map == null ? rawSource : new ScratchOwner(map.open(path, cache), map);
      return new Archive(path, index, source, compression, null, IndexOrigin.BUILT_IN_MEMORY,
          access);
    } finally {
      if (writer != null) {
        writer.close();
      }
    }
  }

  private static final RandomAccess RAW_ACCESS = new RandomAccess(RandomAccess.DIRECT, 0, 0, 0);

  /** The source over the map as saved; the pass's scratch copy of large sections is freed. */
  private static ArchiveSource openSaved(SourceMap map, Map<String, IndexSection> saved, Path path,
      BlockCache cache) throws IOException {
    ArchiveSource source = SourceMap.fromSections(saved).open(path, cache);
    map.releaseScratch();
    return source;
  }

  /** A source over a map that was not saved: closing it frees the map's scratch data too. */
  private record ScratchOwner(ArchiveSource delegate, SourceMap map) implements ArchiveSource {
    @Override
    public void readFully(long position, ByteBuffer dst) throws IOException {
      delegate.readFully(position, dst);
    }

    @Override
    public long size() throws IOException {
      return delegate.size();
    }

    @Override
    public String name() {
      return delegate.name();
    }

    @Override
    public void close() throws IOException {
      try {
        delegate.close();
      } finally {
        map.releaseScratch();
      }
    }
  }

  /** The longest a VMA stream of these devices can be: every block stored, every extent full-ish. */
  private static long streamBound(VmaStreamReader reader) {
    long clusters = reader.header().devices().stream().mapToLong(DeviceInfo::clusterCount).sum();
    return reader.header().headerSize() + clusters * CLUSTER_SIZE + (clusters + 1) * EXTENT_HEADER_SIZE;
  }

  private static String name(ArchiveFormat f) {
    return switch (f) {
      case RAW_VMA -> "none";
      default -> f.name().toLowerCase(Locale.ROOT);
    };
  }

  private static IndexFile.Writer openWriter(Path target, VmaStreamReader reader) {
    try {
      Files.createDirectories(target.toAbsolutePath().getParent());
      return new IndexFile.Writer(target, reader.header());
    } catch (IOException e) {
      log.warn("cannot write the index to {} ({}); building it in memory", target, e.getMessage());
      return null;
    }
  }
}
