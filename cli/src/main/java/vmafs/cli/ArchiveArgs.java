package vmafs.cli;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import vmafs.archive.Archive;
import vmafs.archive.ArchiveOpener;
import vmafs.vma.VmaStreamReader;

/** Opening the ARCHIVE argument: a file, or "-" for an uncompressed VMA stream on stdin. */
final class ArchiveArgs {
  private static final int STDIN_BUFFER = 1 << 20;

  private ArchiveArgs() {}

  static boolean isStdin(String archive) {
    return archive.equals("-");
  }

  static Path existing(String archive) {
    Path p = Path.of(archive);
    if (!Files.exists(p)) {
      throw new CliException(ExitCodes.ENVIRONMENT, archive + ": no such file");
    }
    if (Files.isDirectory(p)) {
      throw new CliException(ExitCodes.ENVIRONMENT, archive + ": is a directory, not an archive");
    }
    if (!Files.isReadable(p)) {
      throw new CliException(ExitCodes.ENVIRONMENT, archive + ": permission denied");
    }
    return p;
  }

  /** Opens and indexes an archive file, with a progress bar for long passes. */
  static Archive open(String archive, IndexOptions index) throws IOException {
    Path p = existing(archive);
    try (ProgressBar bar = new ProgressBar("indexing", Files.size(p))) {
      return index.apply(new ArchiveOpener()).progress(bar).open(p);
    }
  }

  /** A sequential reader over the archive: stdin for "-", otherwise the file. */
  static VmaStreamReader stream(String archive) throws IOException {
    InputStream in = isStdin(archive)
        ? new BufferedInputStream(System.in, STDIN_BUFFER)
        : new BufferedInputStream(Files.newInputStream(existing(archive)), STDIN_BUFFER);
    return VmaStreamReader.open(in);
  }
}
