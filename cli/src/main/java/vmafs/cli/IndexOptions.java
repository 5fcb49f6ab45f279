package vmafs.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;
import vmafs.archive.ArchiveOpener;

/** Options about the saved index, shared by the commands that open an archive randomly. */
final class IndexOptions {
  @Option(names = "--index-file", paramLabel = "PATH",
      description = "Where the saved index is (default: ARCHIVE.vmafs-index beside the archive if"
          + " that directory is writable, else $XDG_CACHE_HOME/vmafs/).")
  Path indexFile;

  @Option(names = "--reindex", description = "Rebuild the index even if a saved one is valid.")
  boolean reindex;

  @Option(names = "--ignore-mtime",
      description = "Accept a saved index although the archive's mtime changed (a copied archive);"
          + " size and content fingerprint are still checked.")
  boolean ignoreMtime;

  @Option(names = "--no-save-index", description = "Do not write an index file; keep it in memory.")
  boolean noSave;

  /** Commands that only read (info, extract) use a saved index but do not write one. */
  boolean saveByDefault = true;

  @Option(names = "--spill-max", paramLabel = "SIZE",
      description = "Largest spill file allowed for archives that cannot be read at random"
          + " (single-frame .vma.zst as vzdump writes, .vma.gz without restart points), e.g. 200G."
          + " Default: no limit beyond the free disk space.")
  String spillMax;

  /** For info and extract: a valid saved index is used, none is written. */
  static IndexOptions readOnly() {
    IndexOptions o = new IndexOptions();
    o.saveByDefault = false;
    return o;
  }

  /** These options again, for a server process started in the background. */
  java.util.List<String> childArgs() {
    java.util.List<String> a = new java.util.ArrayList<>();
    if (indexFile != null) {
      a.add("--index-file=" + indexFile.toAbsolutePath());
    }
    if (reindex) {
      a.add("--reindex");
    }
    if (ignoreMtime) {
      a.add("--ignore-mtime");
    }
    if (noSave) {
      a.add("--no-save-index");
    }
    if (spillMax != null) {
      a.add("--spill-max=" + spillMax);
    }
    return a;
  }

  ArchiveOpener apply(ArchiveOpener o) {
    o.indexFile(indexFile).reindex(reindex).ignoreMtime(ignoreMtime).saveIndex(saveByDefault && !noSave);
    if (spillMax != null) {
      o.spillMax(Units.parseSize(spillMax));
    }
    return o;
  }
}
