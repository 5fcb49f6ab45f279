package vmafs.archive;

import java.io.IOException;
import java.nio.file.Path;
import vmafs.vma.Progress;
import vmafs.vma.VmaStreamReader;
import vmafs.vma.index.ExtentIndex;
import vmafs.vma.index.ExtentIndexBuilder;
import vmafs.vma.io.ChannelInputStream;
import vmafs.vma.io.FileArchiveSource;

/** Opens an archive file: detects the format, then builds (or loads) its extent index. */
public final class ArchiveOpener {
  private static final int SCAN_BUFFER = 1 << 20;

  private Progress progress = Progress.NONE;

  public ArchiveOpener progress(Progress progress) {
    this.progress = progress;
    return this;
  }

  public Archive open(Path path) throws IOException {
    FileArchiveSource source = FileArchiveSource.open(path);
    try {
      VmaStreamReader reader =
          VmaStreamReader.open(new ChannelInputStream(source.channel(), 0, SCAN_BUFFER));
      ExtentIndex index = ExtentIndexBuilder.build(reader, progress);
      return new Archive(path, index, source, "none");
    } catch (IOException | RuntimeException e) {
      source.close();
      throw e;
    }
  }
}
