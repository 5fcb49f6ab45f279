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

  ArchiveOpener apply(ArchiveOpener o) {
    return o.indexFile(indexFile).reindex(reindex).ignoreMtime(ignoreMtime).saveIndex(!noSave);
  }
}
