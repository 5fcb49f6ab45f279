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
          + " (a .vma.zst frame without restart points, .vma.gz without restart points), e.g."
          + " 200G. Default: no limit beyond the free disk space.")
  String spillMax;

  @Option(names = "--spill",
      description = "Decode a compressed archive once into a spill file beside the index and read"
          + " from there, even where it can be read in place: the fastest random reads, for disk"
          + " space about the size of the VM's data. A saved index that reads in place is rebuilt.")
  boolean spill;

  /** For info and extract: a valid saved index is used, none is written. */
  static IndexOptions readOnly() {
    IndexOptions o = new IndexOptions();
    o.saveByDefault = false;
    return o;
  }

  ArchiveOpener apply(ArchiveOpener o) {
    o.indexFile(indexFile).reindex(reindex).ignoreMtime(ignoreMtime).saveIndex(saveByDefault && !noSave)
        .forceSpill(spill);
    if (spillMax != null) {
      o.spillMax(Units.parseSize(spillMax));
    }
    return o;
  }
}
