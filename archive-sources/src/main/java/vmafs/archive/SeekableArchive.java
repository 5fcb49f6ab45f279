package vmafs.archive;

import static vmafs.vma.VmaFormat.BLOCK_SIZE;
import static vmafs.vma.VmaFormat.EXTENT_HEADER_SIZE;
import static vmafs.vma.VmaFormat.MAX_BLOCKS_PER_EXTENT;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.Map;
import java.util.Optional;
import vmafs.source.DecodeOptions;
import vmafs.source.DecodePass;
import vmafs.source.ProgressListener;
import vmafs.source.zstd.SeekableZstdWriter;
import vmafs.source.zstd.ZstdFrameMap;
import vmafs.vma.ExtentHeader;
import vmafs.vma.VmaStreamReader;
import vmafs.vma.index.ArchiveIdentity;
import vmafs.vma.index.ExtentIndex;
import vmafs.vma.index.ExtentIndexBuilder;
import vmafs.vma.index.IndexFile;

/**
 * A VMA stream rewritten as a seekable {@code .vma.zst} ({@code vmafs convert}): independent
 * zstd frames of about a given size of stream, cut only on extent and 4 KiB block boundaries
 * (so a cluster's block never straddles two frames), the seek table, and the archive's index
 * embedded as a skippable frame ({@link EmbeddedIndex}), all of which {@code zstd -d} ignores
 * beyond the stream itself.
 */
public final class SeekableArchive {
  private SeekableArchive() {}

  /**
   * Copies the stream {@code reader} reads into frames of about {@code frameSize} bytes, builds
   * its index on the way (in {@code indexScratch}, a private file) and embeds it.
   *
   * @return the SHA-256 of the stream written, for {@link #decodedDigest}
   */
  public static byte[] write(VmaStreamReader reader, OutputStream out, FileChannel indexScratch,
      int frameSize, int level, int threads) throws IOException {
    MessageDigest sha = sha256();
    try (SeekableZstdWriter w = new SeekableZstdWriter(out, level, threads,
        DecodeOptions.DEFAULT_ZSTD_MAX_FRAME)) {
      Frames f = new Frames(w, sha, frameSize);
      f.put(reader.headerBytes(), 0, reader.headerBytes().length);
      f.cut();
      ExtentIndexBuilder builder = new ExtentIndexBuilder(reader.header());
      byte[] data = new byte[MAX_BLOCKS_PER_EXTENT * BLOCK_SIZE];
      ExtentHeader e;
      while ((e = reader.nextExtent()) != null) {
        builder.accept(e);
        if (f.full()) {
          f.cut(); // on an extent boundary
        }
        f.put(reader.extentHeaderBytes(), 0, EXTENT_HEADER_SIZE);
        reader.readData(data);
        for (int b = 0; b < e.blockCount(); b++) {
          if (f.full()) {
            f.cut(); // on a 4 KiB block boundary
          }
          f.put(data, ExtentHeader.blockStart(b), BLOCK_SIZE);
        }
      }
      f.cut();
      ExtentIndex built = builder.finish(reader.position(), null);
      IndexFile.write(indexScratch, built, ArchiveIdentity.EMBEDDED, Map.of());
      // Streamed from the file: an index can exceed 2 GiB (a ~20 TiB disk).
      w.writeSkippableFrame(EmbeddedIndex.NIBBLE, EmbeddedIndex.pack(indexScratch, indexScratch.size()));
    }
    return sha.digest();
  }

  /**
   * Decodes {@code file} from scratch, with every check a decode pass and the VMA reader make
   * (frame checksums, extent headers), and returns the SHA-256 of its stream; empty if the file
   * has no usable seek table (then it is not what {@link #write} makes).
   */
  public static Optional<byte[]> decodedDigest(Path file, ProgressListener progress) throws IOException {
    if (ZstdFrameMap.fromSeekTable(file, DecodeOptions.DEFAULT_ZSTD_MAX_FRAME).isEmpty()) {
      return Optional.empty();
    }
    MessageDigest sha = sha256();
    try (DecodePass pass = DecodePass.open(file, DecodeOptions.defaults().withStreamOnly()
        .withProgress(progress))) {
      InputStream in = new DigestInputStream(pass.stream(), sha);
      VmaStreamReader r = VmaStreamReader.open(in);
      byte[] data = new byte[MAX_BLOCKS_PER_EXTENT * BLOCK_SIZE];
      while (r.nextExtent() != null) {
        r.readData(data); // not skipData: DigestInputStream does not hash skipped bytes
      }
      in.transferTo(OutputStream.nullOutputStream());
    }
    return Optional.of(sha.digest());
  }

  /** Frame accounting: cut only where {@link #full()} says, so frames end on block boundaries. */
  private static final class Frames {
    private final SeekableZstdWriter w;
    private final MessageDigest sha;
    private final int target;
    private long inFrame;

    Frames(SeekableZstdWriter w, MessageDigest sha, int target) {
      this.w = w;
      this.sha = sha;
      this.target = target;
    }

    void put(byte[] b, int off, int len) throws IOException {
      w.write(b, off, len);
      sha.update(b, off, len);
      inFrame += len;
    }

    boolean full() {
      return inFrame >= target;
    }

    void cut() throws IOException {
      w.endFrame();
      inFrame = 0;
    }
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
