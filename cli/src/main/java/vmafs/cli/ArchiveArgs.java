package vmafs.cli;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import vmafs.archive.Archive;
import vmafs.archive.ArchiveOpener;
import vmafs.service.ArchiveService;
import vmafs.source.ArchiveFormat;
import vmafs.source.DecodeOptions;
import vmafs.source.DecodePass;
import vmafs.vma.Progress;
import vmafs.vma.VmaStreamReader;
import vmafs.remote.RemoteIndexLocation;
import vmafs.vma.io.LocalStoredBytes;
import vmafs.vma.io.StoredBytes;

/**
 * Opening the ARCHIVE argument: a file, an {@code s3://} or {@code http(s)://} URL (through the
 * {@link RemoteArchiveOptions} of the command), or "-" for an uncompressed VMA stream on stdin.
 */
final class ArchiveArgs {
  private static final int STDIN_BUFFER = 1 << 20;

  private ArchiveArgs() {}

  static boolean isStdin(String archive) {
    return archive.equals("-");
  }

  /** Whether the archive is compressed (so random access would need a decode pass). */
  static boolean isCompressed(StoredBytes stored) throws IOException {
    return ArchiveFormat.detect(stored) != ArchiveFormat.RAW_VMA;
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

  /** Opens and indexes an archive, with a progress bar for long passes; the archive owns {@code stored}. */
  static Archive open(StoredBytes stored, IndexOptions index) throws IOException {
    return open(stored, index, vmafs.cache.BlockCache.DEFAULT_MAX_BYTES);
  }

  static Archive open(StoredBytes stored, IndexOptions index, long cacheBytes) throws IOException {
    return open(stored, index, cacheBytes, false);
  }

  /**
   * For the servers (mount, nbd): opens the archive and, when it must be indexed, returns as soon as
   * its header is read, with the pass going on in the service ({@code wait}: returns once the
   * index is complete, with a progress bar, as the other commands do).
   */
  static ArchiveService serve(StoredBytes stored, IndexOptions index, long cacheBytes, boolean partial,
      boolean wait, String refusal) throws IOException {
    if (wait) {
      Archive a = open(stored, index, cacheBytes);
      try {
        Completeness.check(a.images().stream().map(vmafs.vma.image.DeviceImage::index).toList(),
            partial, refusal);
      } catch (IOException | RuntimeException e) {
        a.close();
        throw e;
      }
      return ArchiveService.of(a);
    }
    ArchiveService s = ArchiveService.start(stored,
        opener(stored, index).cacheBytes(cacheBytes), partial);
    if (!s.hasPass()) {
      // A saved index: complete now, and refused as before when it describes an incomplete archive.
      try {
        Completeness.check(s.archive().orElseThrow().images().stream()
            .map(vmafs.vma.image.DeviceImage::index).toList(), partial, refusal);
      } catch (IOException | RuntimeException e) {
        s.close();
        throw e;
      }
    }
    return s;
  }

  /** For commands that need the index but read no data (info). */
  static Archive openIndexOnly(StoredBytes stored, IndexOptions index) throws IOException {
    return open(stored, index, vmafs.cache.BlockCache.DEFAULT_MAX_BYTES, true);
  }

  private static Archive open(StoredBytes stored, IndexOptions index, long cacheBytes,
      boolean indexOnly) throws IOException {
    try (ProgressBar bar = new ProgressBar("indexing", stored.size())) {
      return opener(stored, index).cacheBytes(cacheBytes).indexOnly(indexOnly).progress(bar)
          .open(stored);
    }
  }

  /**
   * The opener for {@code stored} with the index options; a remote archive's index is saved in
   * the per-user cache under its URL and version ({@link RemoteIndexLocation}).
   */
  private static ArchiveOpener opener(StoredBytes stored, IndexOptions index) {
    ArchiveOpener o = index.apply(new ArchiveOpener());
    if (!(stored instanceof LocalStoredBytes)) {
      if (stored.versionTag() == null) {
        // Without a version a replaced object could not be told from the one indexed.
        org.slf4j.LoggerFactory.getLogger(ArchiveArgs.class).warn("{} has no ETag or Last-Modified:"
            + " its index is kept in memory only", stored.name());
      } else {
        o.remoteIndex(RemoteIndexLocation.relative(stored.name(), stored.versionTag()));
      }
    }
    return o;
  }

  /**
   * A sequential reader over the archive: stdin for "-" (an uncompressed VMA), otherwise the file,
   * decompressed on the fly whatever its compression (nothing is spilled or saved).
   */
  static VmaStreamReader stream(String archive, RemoteArchiveOptions remote) throws IOException {
    return stream(archive, remote, Progress.NONE);
  }

  /**
   * As {@link #stream(String, RemoteArchiveOptions)}, reporting progress in bytes of the archive
   * file. The stored archive stays open until the command ends.
   */
  static VmaStreamReader stream(String archive, RemoteArchiveOptions remote, Progress progress)
      throws IOException {
    if (isStdin(archive)) {
      BufferedInputStream in = new BufferedInputStream(System.in, STDIN_BUFFER);
      refuseCompressedStdin(in);
      return VmaStreamReader.open(in);
    }
    return stream(remote.open(archive), progress);
  }

  /** The stream of an opened archive: read in order once (a remote one: one streaming request). */
  static VmaStreamReader stream(StoredBytes stored, Progress progress) throws IOException {
    if (ArchiveFormat.detect(stored) == ArchiveFormat.RAW_VMA) {
      // Not FileInputStream: its skip() seeks past the end silently and would hide truncation.
      return VmaStreamReader.open(new CountingInputStream(stored.openScan(0, STDIN_BUFFER), progress));
    }
    DecodePass pass = DecodePass.open(stored, DecodeOptions.defaults().withStreamOnly()
        .withProgress((done, total) -> progress.update(done)));
    return VmaStreamReader.open(new BufferedInputStream(pass.stream(), STDIN_BUFFER));
  }

  /**
   * A compressed stream on stdin would otherwise be reported as "not a VMA archive": say what it is
   * and what to do. (Decoding needs random access to the file for zstd frames and the saved maps.)
   */
  private static void refuseCompressedStdin(BufferedInputStream in) throws IOException {
    in.mark(16);
    byte[] head = in.readNBytes(9);
    in.reset();
    ArchiveFormat f = ArchiveFormat.detect(head);
    if (f != null && f != ArchiveFormat.RAW_VMA) {
      String tool = switch (f) {
        case ZSTD -> "zstd -dc";
        case LZOP -> "lzop -dc";
        default -> "gzip -dc";
      };
      throw new CliException(ExitCodes.USAGE, "stdin holds a " + f.name().toLowerCase(java.util.Locale.ROOT)
          + "-compressed stream, but '-' reads an uncompressed VMA: pass the file itself, or"
          + " decompress on the way (" + tool + " FILE | vmafs ... -)");
    }
  }

  /** Counts bytes read from a plain file for the progress bar. */
  private static final class CountingInputStream extends java.io.FilterInputStream {
    private final Progress progress;
    private long count;

    CountingInputStream(InputStream in, Progress progress) {
      super(in);
      this.progress = progress;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = super.read(b, off, len);
      if (n > 0) {
        progress.update(count += n);
      }
      return n;
    }

    @Override
    public long skip(long n) throws IOException {
      long s = super.skip(n);
      progress.update(count += s);
      return s;
    }
  }
}
