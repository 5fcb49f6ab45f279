package vmafs.archive;

import static vmafs.vma.VmaFormat.*;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import vmafs.cache.BlockCache;
import vmafs.source.ArchiveFormat;
import vmafs.source.DecodeOptions;
import vmafs.source.DecodePass;
import vmafs.source.internal.OwningSource;
import vmafs.source.RandomAccess;
import vmafs.source.SourceMap;
import vmafs.source.zstd.ZstdFrameMap;
import vmafs.vma.DeviceInfo;
import vmafs.vma.Progress;
import vmafs.vma.VmaHeader;
import vmafs.vma.VmaStreamReader;
import vmafs.vma.index.ArchiveIdentity;
import vmafs.vma.index.ExtentIndex;
import vmafs.vma.index.ExtentIndexBuilder;
import vmafs.vma.index.IndexCheck;
import vmafs.vma.index.IndexFile;
import vmafs.vma.index.IndexSection;
import vmafs.vma.index.StaleIndexException;
import vmafs.vma.io.ArchiveSource;
import vmafs.vma.io.AtomicFile;
import vmafs.vma.io.FileTrust;
import vmafs.vma.io.LocalStoredBytes;
import vmafs.vma.io.PositionalInputStream;
import vmafs.vma.io.StoredBytes;
import vmafs.vma.io.StoredSource;

/**
 * Opens an archive file of any supported compression: reuses its saved index when it still
 * describes the archive, else builds the index in one pass and saves it (with what random access
 * into the compressed file needs). Configure, then call {@link #open}.
 *
 * <p>Every read of the archive goes through its {@link StoredBytes}: a local file or a remote
 * object. What is inherently local stays local: a remote archive's index and spill go to the
 * per-user cache ({@link #remoteIndex}), never beside a URL, and the index embedded in a seekable
 * archive is used for local files only (for a remote one the saved index plays its part).
 */
public final class ArchiveOpener {
  private static final Logger log = LoggerFactory.getLogger(ArchiveOpener.class);
  private static final int SCAN_BUFFER = 1 << 20;
  /**
   * Extents read in order, and stored clusters at random, before an embedded index is believed.
   * Each costs decoding the frames it reads (a sample reads back to its extent header, ~2 MiB on
   * average): 8 and 12 keep the check to a few tenths of a second of CPU (docs/benchmarks.md) while
   * looking at the start of the archive and at random places all over it.
   */
  private static final int EMBEDDED_CHECK_EXTENTS = 8;
  private static final int EMBEDDED_CHECK_SAMPLES = 12;

  private Progress progress = Progress.NONE;
  private Path indexFile;
  private boolean reindex;
  private boolean ignoreMtime;
  private boolean saveIndex = true;
  private long cacheBytes = BlockCache.DEFAULT_MAX_BYTES;
  private long spillMax = Long.MAX_VALUE;
  private boolean forceSpill;
  private boolean indexOnly;
  private String remoteIndex;

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

  /**
   * Where, under the per-user cache directory, the saved index of a remote archive goes (e.g.
   * {@code remote/<hash of URL and ETag>-<name>.vmafs-index}); without it a remote archive's index
   * is kept in memory only.
   */
  public ArchiveOpener remoteIndex(String relativePath) {
    this.remoteIndex = relativePath;
    return this;
  }

  public Archive open(Path path) throws IOException {
    return open(LocalStoredBytes.open(path));
  }

  /** As {@link #open(Path)} over the stored archive, which the returned archive owns (closes). */
  public Archive open(StoredBytes path) throws IOException {
    boolean ok = false;
    try {
      Archive a = openStored(path);
      ok = true;
      return a;
    } finally {
      if (!ok) {
        path.close();
      }
    }
  }

  private Archive openStored(StoredBytes path) throws IOException {
    ArchiveFormat format = ArchiveFormat.detect(path);
    ArchiveIdentity identity = identity(path);
    BlockCache cache = new BlockCache(cacheBytes);
    Places places = places(path);
    Archive saved = saved(path, format, identity, places, cache);
    if (saved != null) {
      return saved;
    }
    IndexLocation save = places.save();
    boolean writes = save != null && (saveIndex || (format != ArchiveFormat.RAW_VMA && !indexOnly));
    try (IndexLock lock = writes ? IndexLock.acquire(save.lock(), path.name()) : IndexLock.NONE) {
      Archive a = savedMeanwhileOrEmbedded(path, format, identity, save, cache, lock);
      return a != null ? a : build(path, format, identity, save, cache);
    }
  }

  /** A local file's identity as always (size, mtime, samples); a remote object's without mtime. */
  private static ArchiveIdentity identity(StoredBytes stored) throws IOException {
    return stored instanceof LocalStoredBytes local ? ArchiveIdentity.of(local.path())
        : ArchiveIdentity.of(stored, 0);
  }

  /** The archive with the first usable saved index of {@code places}, or null. */
  private Archive saved(StoredBytes path, ArchiveFormat format, ArchiveIdentity identity, Places places,
      BlockCache cache) throws IOException {
    if (!reindex) {
      for (IndexLocation loc : places.read()) {
        Archive a = loadSaved(path, format, identity, loc, cache);
        if (a != null) {
          return a;
        }
      }
    }
    return null;
  }

  /**
   * Under the pass lock: what the pass we waited for saved, or the index embedded in a seekable
   * .vma.zst; null when the index has to be built.
   */
  private Archive savedMeanwhileOrEmbedded(StoredBytes path, ArchiveFormat format, ArchiveIdentity identity,
      IndexLocation save, BlockCache cache, IndexLock lock) throws IOException {
    if (lock.held()) {
      // Under the lock no other pass writes them: what is there was left by a killed pass.
      AtomicFile.removeAbandoned(save.index());
      AtomicFile.removeAbandoned(save.spill());
    }
    if (lock.waited() && !reindex) {
      // The pass we waited for has probably saved what we were about to build.
      Archive a = loadSaved(path, format, identity, save, cache);
      if (a != null) {
        return a;
      }
    }
    if (format == ArchiveFormat.ZSTD && !reindex) {
      if (path instanceof LocalStoredBytes local) {
        return adoptEmbedded(local, identity, save, cache);
      }
      log.debug("{}: an embedded index is not used for a remote archive; decoding it", path.name());
    }
    return null;
  }

  /**
   * What {@link #start} opened: an archive ready at once (a saved or embedded index), or a pass
   * running in the background.
   */
  public record Started(Archive ready, LivePass pass) {}

  /**
   * As {@link #open}, but when the index has to be built, returns as soon as the archive header is
   * read: the pass goes on in a thread of its own and its images can be read meanwhile (reads wait
   * for what they need). The saved index is written only when the pass ends cleanly. {@code
   * progress} is not used: the pass reports to {@link LivePass#progress()}.
   *
   * @param partial the rules for missing clusters and late duplicates ({@link
   *     vmafs.vma.index.LiveIndex})
   */
  public Started start(Path path, boolean partial) throws IOException {
    return start(LocalStoredBytes.open(path), partial);
  }

  /**
   * As {@link #start(Path, boolean)} over the stored archive, which the returned archive or pass
   * owns (closes).
   */
  public Started start(StoredBytes path, boolean partial) throws IOException {
    boolean ok = false;
    try {
      Started s = startStored(path, partial);
      ok = true;
      return s;
    } finally {
      if (!ok) {
        path.close();
      }
    }
  }

  private Started startStored(StoredBytes path, boolean partial) throws IOException {
    ArchiveFormat format = ArchiveFormat.detect(path);
    ArchiveIdentity identity = identity(path);
    BlockCache cache = new BlockCache(cacheBytes);
    Places places = places(path);
    Archive saved = saved(path, format, identity, places, cache);
    if (saved != null) {
      return new Started(saved, null);
    }
    IndexLocation save = places.save();
    boolean writes = save != null && (saveIndex || format != ArchiveFormat.RAW_VMA);
    IndexLock lock = writes ? IndexLock.acquire(save.lock(), path.name()) : IndexLock.NONE;
    try {
      Archive a = savedMeanwhileOrEmbedded(path, format, identity, save, cache, lock);
      if (a != null) {
        lock.close();
        return new Started(a, null);
      }
      return new Started(null, startPass(path, format, identity, save, cache, lock, partial));
    } catch (IOException | RuntimeException e) {
      lock.close();
      throw e;
    }
  }

  /** Reads the header here and runs the rest of the pass on a thread that ends by closing {@code lock}. */
  private LivePass startPass(StoredBytes path, ArchiveFormat format, ArchiveIdentity identity,
      IndexLocation save, BlockCache cache, IndexLock lock, boolean partial) throws IOException {
    PassProgress passProgress = new PassProgress(path.size());
    Closeable resources;
    VmaStreamReader reader;
    ArchiveSource liveSource;
    ArchiveSource rawSource;
    AfterPass afterPass;
    if (format == ArchiveFormat.RAW_VMA) {
      StoredSource source = new StoredSource(path);
      java.io.InputStream scan = path.openScan(0, SCAN_BUFFER);
      resources = scan;
      try {
        reader = VmaStreamReader.open(scan);
      } catch (IOException | RuntimeException e) {
        scan.close();
        throw e;
      }
      liveSource = source; // the data is there already: only the listing is awaited
      rawSource = source;
      afterPass = () -> null;
    } else {
      DecodeOptions options = DecodeOptions.defaults()
          .withSpillFile(save == null ? null : save.spill()).withSpillMax(spillMax)
          .withForceSpill(forceSpill)
          .withProgress((done, total) -> passProgress.update(done));
      DecodePass pass = DecodePass.open(path, options);
      resources = pass;
      rawSource = null;
      try {
        liveSource = pass.live(cache);
        reader = VmaStreamReader.open(pass.stream());
        pass.expectUncompressedAtMost(streamBound(reader));
        afterPass = pass::finish;
      } catch (IOException | RuntimeException e) {
        pass.close();
        throw e;
      }
    }
    Path target = save == null ? null : save.index();
    IndexFile.Writer writer = saveIndex && target != null ? openWriter(target, reader, path) : null;
    long base = reader.header().headerSize();
    vmafs.vma.index.ExtentIndexBuilder builder = new vmafs.vma.index.ExtentIndexBuilder(
        reader.header(), writer != null ? writer.tables()
            : d -> vmafs.vma.index.ClusterTable.allocate(d.clusterCount(), base));
    vmafs.vma.index.LiveIndex index = new vmafs.vma.index.LiveIndex(builder, partial);
    LivePass live = new LivePass(path, reader.header(), name(format), index, liveSource,
        passProgress);
    VmaStreamReader r = reader;
    live.start(() -> {
      try (lock; resources; IndexFile.Writer w = writer) {
        ExtentIndex built = index.run(r, format == ArchiveFormat.RAW_VMA ? passProgress : Progress.NONE);
        SourceMap map = afterPass.finish();
        RandomAccess access = map == null ? RAW_ACCESS : map.randomAccess();
        passProgress.update(passProgress.total());
        Archive a = null;
        ArchiveSource source = null;
        if (w != null) {
          try {
            Map<String, IndexSection> saved =
                w.commit(built, identity, map == null ? Map.of() : map.sections());
            log.info("saved index {}", target);
            source = map == null ? rawSource : openSaved(map, saved, save, path, cache);
            a = new Archive(path, built, source, name(format), target,
                IndexOrigin.BUILT_AND_SAVED, access);
          } catch (IOException ex) {
            if (live.closing()) {
              throw ex; // stopped while saving: nothing to say, nothing saved
            }
            log.warn("could not save the index to {} ({}); it is kept in memory only", target,
                ex.getMessage());
          }
        }
        if (a == null) {
          source = map == null ? rawSource : new OwningSource(map.open(path, cache), map::releaseScratch);
          a = new Archive(path, built, source, name(format), null, IndexOrigin.BUILT_IN_MEMORY,
              access);
        }
        if (liveSource instanceof vmafs.source.LiveSource ls) {
          ls.finish(source);
        }
        passProgress.end();
        index.complete(built);
        live.future().complete(a);
      } catch (Throwable e) {
        IOException why = e instanceof IOException io && io.getMessage() != null ? io
            : new IOException(path.name() + ": the index pass failed: " + e, e);
        passProgress.end();
        if (live.closing()) {
          log.debug("{}: index pass stopped: {}", path.name(), why.getMessage());
        } else {
          log.error("{}: index pass failed: {}", path.name(), why.getMessage());
        }
        index.fail(why);
        if (liveSource instanceof vmafs.source.LiveSource ls) {
          ls.fail(why);
        }
        live.future().completeExceptionally(why);
      }
    });
    return live;
  }

  /**
   * Where a saved index may be read from, in order, and where a new one (and a spill) goes (null:
   * nowhere trusted, so in memory only).
   */
  private record Places(List<IndexLocation> read, IndexLocation save) {}

  private Places places(StoredBytes stored) throws IOException {
    if (indexFile != null) {
      IndexLocation loc = IndexLocation.at(indexFile);
      Path dir = loc.directory();
      if (!Files.isDirectory(dir)) {
        throw new NoSuchFileException(dir.toString(), null,
            "the directory of --index-file does not exist");
      }
      String why = FileTrust.untrustedDirectory(dir);
      if (why != null) {
        throw new IOException(indexFile + ": refusing this index file: " + why
            + " (another user could forge or replace it)");
      }
      return new Places(List.of(loc), loc);
    }
    if (!(stored instanceof LocalStoredBytes local)) {
      IndexLocation cached = remoteCacheLocation(stored);
      return new Places(cached == null ? List.of() : List.of(cached), cached);
    }
    Path archive = local.path();
    IndexLocation beside = IndexLocation.beside(archive);
    String notBeside = IndexLocation.whyNotBeside(archive);
    if (notBeside == null) {
      return new Places(List.of(beside), beside);
    }
    List<IndexLocation> read = new ArrayList<>();
    if (Files.exists(beside.index(), LinkOption.NOFOLLOW_LINKS)) {
      String untrusted = FileTrust.untrustedDirectory(beside.directory());
      if (untrusted == null) {
        read.add(beside); // e.g. made by root in a directory this user cannot write
      } else {
        log.warn("ignoring the saved index {}: {}; another user could have forged it",
            beside.index(), untrusted);
      }
    }
    Path cacheDir = IndexLocation.cacheDir();
    IndexLocation cached = cacheDir == null ? null : IndexLocation.inCache(cacheDir, archive);
    if (cached != null) {
      read.add(cached);
    } else if (saveIndex) {
      log.warn("no trusted directory for the index of {} (set XDG_CACHE_HOME to a directory only"
          + " you can write to); it is kept in memory only", archive);
    }
    return new Places(read, cached);
  }

  /** Where a remote archive's index goes in the per-user cache, or null (then in memory only). */
  private IndexLocation remoteCacheLocation(StoredBytes stored) throws IOException {
    Path cacheDir = remoteIndex == null ? null : IndexLocation.cacheDir();
    if (cacheDir == null) {
      if (saveIndex) {
        log.warn("no trusted directory for the index of {} (set XDG_CACHE_HOME to a directory only"
            + " you can write to); it is kept in memory only", stored.name());
      }
      return null;
    }
    IndexLocation loc = IndexLocation.at(cacheDir.resolve(remoteIndex));
    Path dir = loc.directory();
    if (!dir.normalize().startsWith(cacheDir)) {
      throw new IllegalArgumentException(remoteIndex + " is not inside the cache directory");
    }
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      Files.createDirectories(dir, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
          java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
    }
    String why = FileTrust.untrustedDirectory(dir);
    if (why != null) {
      log.warn("not saving the index of {} in {}: {}; it is kept in memory only", stored.name(),
          dir, why);
      return null;
    }
    return loc;
  }

  /**
   * The archive with its saved index at {@code loc}, or null (with a warning where one exists but
   * may not be used): the index and its spill must pass {@link FileTrust}, describe this very file
   * (identity and CRCs) and carry the archive's own header.
   */
  private Archive loadSaved(StoredBytes path, ArchiveFormat format, ArchiveIdentity identity,
      IndexLocation loc, BlockCache cache) throws IOException {
    if (!Files.exists(loc.index(), LinkOption.NOFOLLOW_LINKS)) {
      return null;
    }
    String untrusted = FileTrust.untrusted(loc.index());
    if (untrusted != null) {
      log.warn("ignoring the saved index {}: {}; {}", loc.index(), untrusted,
          saveIndex ? "rebuilding it" : "indexing the archive again");
      return null;
    }
    try {
      IndexFile.Loaded loaded = IndexFile.load(loc.index(), identity, ignoreMtime);
      String header = IndexCheck.headerMismatch(loaded.index().header(), archiveHeader(path, format));
      if (header != null) {
        throw new StaleIndexException(header);
      }
      Reads reads = openSource(format, path, loaded.sections(), loc, cache);
      log.info("using saved index {}", loc.index());
      return new Archive(path, loaded.index(), reads.source(), name(format), loc.index(),
          IndexOrigin.LOADED, reads.access());
    } catch (StaleIndexException e) {
      log.warn("saved index {} is not usable ({}); {}", loc.index(), e.getMessage(),
          saveIndex ? "rebuilding it" : "indexing the archive again (run 'vmafs index' to refresh the saved one)");
      return null;
    }
  }

  /** The VMA header at the start of the archive's stream: a few KiB, decoded if need be. */
  private static VmaHeader archiveHeader(StoredBytes path, ArchiveFormat format)
      throws IOException {
    if (format == ArchiveFormat.RAW_VMA) {
      try (java.io.InputStream in = new PositionalInputStream(path, 0, 64 << 10)) {
        return VmaStreamReader.open(in).header();
      }
    }
    // Positional reads: a remote archive's header is in its first piece, fetched when it was
    // opened, where a sequential stream would be one more request for the whole object.
    try (DecodePass pass = DecodePass.open(new PositionalView(path),
        DecodeOptions.defaults().withStreamOnly())) {
      return VmaStreamReader.open(pass.stream()).header();
    }
  }

  /** {@code stored} with sequential streams made of positional reads; closing it closes nothing. */
  private record PositionalView(StoredBytes stored) implements StoredBytes {
    @Override
    public String name() {
      return stored.name();
    }

    @Override
    public long size() throws IOException {
      return stored.size();
    }

    @Override
    public String versionTag() {
      return stored.versionTag();
    }

    @Override
    public int read(long position, ByteBuffer dst) throws IOException {
      return stored.read(position, dst);
    }

    @Override
    public java.io.InputStream openSequential(long position) {
      return new PositionalInputStream(this, position, 64 << 10);
    }

    @Override
    public void close() {}
  }

  /**
   * A seekable .vma.zst made by {@code vmafs convert} carries its own index: unpack it beside the
   * archive (or into a private temporary file), give it this file's identity, check it against the
   * archive ({@link IndexCheck#sample}: the archive's author wrote it), and serve reads through the
   * seek table. No decode pass.
   *
   * @return null when the archive has no (usable) embedded index
   */
  private Archive adoptEmbedded(LocalStoredBytes path, ArchiveIdentity identity, IndexLocation save,
      BlockCache cache) throws IOException {
    Optional<ZstdFrameMap> frames = ZstdFrameMap.fromSeekTable(path, DecodeOptions.DEFAULT_ZSTD_MAX_FRAME);
    if (frames.isEmpty()) {
      return null;
    }
    Optional<ZstdFrameMap.Payload> payload = frames.get().skippablePayload(path, EmbeddedIndex.NIBBLE);
    if (payload.isEmpty()) {
      return null;
    }
    boolean keep = saveIndex && save != null;
    Path file = keep ? save.index()
        : Path.of(System.getProperty("java.io.tmpdir"), "vmafs-embedded" + IndexLocation.SUFFIX);
    ArchiveSource source = null;
    try (AtomicFile f = AtomicFile.create(file, FileTrust.derivedPermissions(path))) {
      EmbeddedIndex.unpack(path.channel(), payload.get().offset(), payload.get().length(), f.channel());
      IndexFile.adopt(f.channel(), identity);
      IndexFile.Loaded loaded = IndexFile.load(f.channel(), identity, false);
      source = frames.get().open(path, cache);
      String why = IndexCheck.sample(loaded.index(), source, EMBEDDED_CHECK_EXTENTS,
          EMBEDDED_CHECK_SAMPLES, new SecureRandom());
      if (why != null) {
        throw new StaleIndexException("it does not match the archive: " + why);
      }
      if (keep) {
        f.commit(); // else removed on close: the mappings stay valid after the unlink
      }
      log.info("using the index embedded in {}", path.name());
      return new Archive(path, loaded.index(), source, name(ArchiveFormat.ZSTD),
          keep ? file : null, IndexOrigin.EMBEDDED, frames.get().randomAccess());
    } catch (IOException e) {
      if (source != null) {
        source.close();
      }
      log.warn("the index embedded in {} is not usable ({}); decoding the archive instead", path.name(),
          e.getMessage());
      return null;
    }
  }

  /** How an opened archive's stream is read. */
  private record Reads(ArchiveSource source, RandomAccess access) {}

  private Reads openSource(ArchiveFormat format, StoredBytes path, Map<String, IndexSection> sections,
      IndexLocation loc, BlockCache cache) throws IOException {
    if (format == ArchiveFormat.RAW_VMA) {
      return new Reads(new StoredSource(path), RAW_ACCESS);
    }
    boolean hasMap = sections.containsKey(SourceMap.SECTION);
    if (!hasMap && format == ArchiveFormat.ZSTD && !forceSpill) {
      // An index adopted from a seekable archive: its seek table is the map.
      Optional<ZstdFrameMap> frames = ZstdFrameMap.fromSeekTable(path, DecodeOptions.DEFAULT_ZSTD_MAX_FRAME);
      if (frames.isPresent()) {
        return new Reads(frames.get().open(path, cache), frames.get().randomAccess());
      }
    }
    if (!hasMap) {
      throw new StaleIndexException("it has no map of the compressed archive");
    }
    try {
      SourceMap m = SourceMap.fromSections(sections, loc.spill());
      if (forceSpill && m.isRandomAccessible()) {
        throw new StaleIndexException("it reads the archive in place and --spill asks for a spill file");
      }
      if (!m.isRandomAccessible()) {
        String why = FileTrust.untrusted(loc.spill());
        if (why != null) {
          throw new StaleIndexException("its spill file may not be used: " + why);
        }
      }
      return new Reads(m.open(path, cache), m.randomAccess());
    } catch (StaleIndexException e) {
      throw e;
    } catch (IOException e) {
      // e.g. the spill file was deleted: the index alone is not enough, so rebuild both
      throw new StaleIndexException(e.getMessage());
    }
  }

  private Archive build(StoredBytes path, ArchiveFormat format, ArchiveIdentity identity,
      IndexLocation save, BlockCache cache) throws IOException {
    if (format == ArchiveFormat.RAW_VMA) {
      // Uncompressed: read the extent headers, skip the data.
      StoredSource source = new StoredSource(path);
      try (java.io.InputStream scan = path.openScan(0, SCAN_BUFFER)) {
        VmaStreamReader reader = VmaStreamReader.open(scan);
        return indexAndSave(path, format, identity, save, reader, progress, () -> null, source,
            cache);
      }
    }
    // Compressed: one decode pass yields both the VMA index and the map for random access.
    DecodeOptions options = DecodeOptions.defaults()
        .withSpillFile(save == null ? null : save.spill()).withSpillMax(spillMax)
        .withForceSpill(forceSpill)
        .withProgress((done, total) -> progress.update(done));
    if (indexOnly) {
      try (DecodePass pass = DecodePass.open(path, options.withStreamOnly())) {
        // Progress comes from the decode pass, in compressed bytes.
        ExtentIndex index = ExtentIndexBuilder.build(VmaStreamReader.open(pass.stream()), Progress.NONE);
        pass.stream().transferTo(java.io.OutputStream.nullOutputStream()); // verifies the end
        return new Archive(path, index, new NoReads(path.name()), name(format), null,
            IndexOrigin.BUILT_IN_MEMORY, null);
      }
    }
    try (DecodePass pass = DecodePass.open(path, options)) {
      VmaStreamReader reader = VmaStreamReader.open(pass.stream());
      pass.expectUncompressedAtMost(streamBound(reader));
      return indexAndSave(path, format, identity, save, reader, Progress.NONE, pass::finish, null,
          cache);
    }
  }

  /** The source of an archive opened for its index only. */
  record NoReads(String name) implements ArchiveSource {
    @Override
    public void readFully(long position, ByteBuffer dst) throws IOException {
      throw new IllegalStateException(name + " was opened for its index only");
    }

    @Override
    public long size() {
      return -1;
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
  private Archive indexAndSave(StoredBytes path, ArchiveFormat format, ArchiveIdentity identity,
      IndexLocation save, VmaStreamReader reader, Progress passProgress, AfterPass afterPass,
      ArchiveSource rawSource, BlockCache cache) throws IOException {
    Path target = save == null ? null : save.index();
    IndexFile.Writer writer = saveIndex && target != null ? openWriter(target, reader, path) : null;
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
          ArchiveSource source = map == null ? rawSource : openSaved(map, saved, save, path, cache);
          return new Archive(path, index, source, name(format), target,
              IndexOrigin.BUILT_AND_SAVED, access);
        } catch (IOException ex) {
          log.warn("could not save the index to {} ({}); it is kept in memory only", target,
              ex.getMessage());
        }
      }
      ArchiveSource source = map == null ? rawSource : new OwningSource(map.open(path, cache), map::releaseScratch);
      return new Archive(path, index, source, name(format), null, IndexOrigin.BUILT_IN_MEMORY,
          access);
    } finally {
      if (writer != null) {
        writer.close();
      }
    }
  }

  private static final RandomAccess RAW_ACCESS = new RandomAccess(RandomAccess.DIRECT, 0, 0, 0);

  /** The source over the map as saved; the pass's scratch copy of large sections is freed. */
  private static ArchiveSource openSaved(SourceMap map, Map<String, IndexSection> saved,
      IndexLocation save, StoredBytes path, BlockCache cache) throws IOException {
    ArchiveSource source = SourceMap.fromSections(saved, save.spill()).open(path, cache);
    map.releaseScratch();
    return source;
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

  private static IndexFile.Writer openWriter(Path target, VmaStreamReader reader,
      StoredBytes archive) {
    try {
      Files.createDirectories(target.toAbsolutePath().getParent());
      return new IndexFile.Writer(target, reader.header(), FileTrust.derivedPermissions(archive));
    } catch (IOException e) {
      log.warn("cannot write the index to {} ({}); building it in memory", target, e.getMessage());
      return null;
    }
  }
}
