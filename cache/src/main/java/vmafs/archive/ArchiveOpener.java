package vmafs.archive;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import vmafs.vma.ExtentHeader;
import vmafs.vma.Progress;
import vmafs.vma.VmaStreamReader;
import vmafs.vma.index.ArchiveIdentity;
import vmafs.vma.index.ExtentIndex;
import vmafs.vma.index.ExtentIndexBuilder;
import vmafs.vma.index.IndexFile;
import vmafs.vma.index.StaleIndexException;
import vmafs.vma.io.ChannelInputStream;
import vmafs.vma.io.FileArchiveSource;

/**
 * Opens an archive file: reuses its saved index when it still describes the archive, else builds
 * the index in one pass and saves it. Configure, then call {@link #open}.
 */
public final class ArchiveOpener {
  private static final Logger log = LoggerFactory.getLogger(ArchiveOpener.class);
  private static final int SCAN_BUFFER = 1 << 20;

  private Progress progress = Progress.NONE;
  private Path indexFile;
  private boolean reindex;
  private boolean ignoreMtime;
  private boolean saveIndex = true;

  /** How the index was obtained, for messages and {@code info}. */
  public enum IndexOrigin { LOADED, BUILT_AND_SAVED, BUILT_IN_MEMORY }

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

  public Archive open(Path path) throws IOException {
    Path target = indexFile != null ? indexFile : IndexLocation.forArchive(path);
    FileArchiveSource source = FileArchiveSource.open(path);
    try {
      ArchiveIdentity identity = ArchiveIdentity.of(path);
      if (!reindex && Files.exists(target)) {
        try {
          IndexFile.Loaded loaded = IndexFile.load(target, identity, ignoreMtime);
          log.info("using saved index {}", target);
          return new Archive(path, loaded.index(), source, "none", target, IndexOrigin.LOADED);
        } catch (StaleIndexException e) {
          log.warn("saved index {} is not usable ({}); rebuilding it", target, e.getMessage());
        }
      }
      return build(path, source, identity, target);
    } catch (IOException | RuntimeException e) {
      source.close();
      throw e;
    }
  }

  private Archive build(Path path, FileArchiveSource source, ArchiveIdentity identity, Path target)
      throws IOException {
    VmaStreamReader reader =
        VmaStreamReader.open(new ChannelInputStream(source.channel(), 0, SCAN_BUFFER));
    IndexFile.Writer writer = saveIndex ? openWriter(target, reader) : null;
    try {
      ExtentIndexBuilder builder = writer != null
          ? new ExtentIndexBuilder(reader.header(), writer.tables())
          : new ExtentIndexBuilder(reader.header());
      ExtentHeader e;
      while ((e = reader.nextExtent()) != null) {
        builder.accept(e);
        progress.update(reader.position());
      }
      ExtentIndex index = builder.finish(reader.position(), null);
      if (writer != null) {
        try {
          writer.commit(index, identity, Map.of());
          log.info("saved index {}", target);
          return new Archive(path, index, source, "none", target, IndexOrigin.BUILT_AND_SAVED);
        } catch (IOException ex) {
          log.warn("could not save the index to {} ({}); it is kept in memory only", target, ex.getMessage());
        }
      }
      return new Archive(path, index, source, "none", null, IndexOrigin.BUILT_IN_MEMORY);
    } finally {
      if (writer != null) {
        writer.close();
      }
    }
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
