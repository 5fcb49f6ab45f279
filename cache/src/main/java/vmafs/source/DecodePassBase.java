package vmafs.source;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import vmafs.vma.io.FileTrust;

/**
 * The parts every decode pass shares: the compressed input, counting output, teeing it into a
 * spill file, failing for good after the first error, and draining on {@link #finish()}.
 */
abstract class DecodePassBase implements DecodePass {
  private static final Logger log = LoggerFactory.getLogger(DecodePassBase.class);

  protected final Path archive;
  protected final String name;
  protected final DecodeOptions options;
  protected final FileChannel channel;
  protected final CompressedInput in;
  private final InputStream stream = new PassStream();
  private final long startNanos = System.nanoTime();
  private SpillWriter spill;
  private long spillStart;
  private long expectedMax = -1;
  private long produced;
  private boolean eof;
  private IOException failure;
  private SourceMap map;

  protected DecodePassBase(Path archive, DecodeOptions options) throws IOException {
    this.archive = archive;
    this.name = archive.toString();
    this.options = options;
    this.channel = FileChannel.open(archive, StandardOpenOption.READ);
    this.in = new CompressedInput(channel, name, channel.size(), options.progress());
  }

  /**
   * Decodes up to {@code len} bytes into {@code b}; returns -1 only after the end of the archive has
   * been verified.
   */
  protected abstract int produce(byte[] b, int off, int len) throws IOException;

  /** The map, once the stream is complete; {@code spill} is non-null if a spill was written. */
  protected abstract SourceMap buildMap(long uncompressedSize, SpillFile spill, long spillStart)
      throws IOException;

  /** Uncompressed bytes produced so far. */
  protected final long produced() {
    return produced;
  }

  /**
   * Starts teeing output into a spill file that will hold the stream from uncompressed offset
   * {@code from} on. When {@code from < produced()} the caller must write that prefix to the
   * returned writer before producing more.
   */
  protected final SpillWriter startSpill(long from) throws IOException {
    if (options.streamOnly()) {
      spill = SpillWriter.discarding();
      return spill;
    }
    if (options.spillFile() == null) {
      throw new IOException(name + " cannot be read at random (" + format()
          + ") and needs a spill file, but no cache directory was given");
    }
    spill = SpillWriter.create(options.spillFile(), options.spillMax(), name,
        FileTrust.derivedPermissions(archive));
    spillStart = from;
    if (expectedMax >= 0) {
      spill.checkRoom(expectedMax - from);
    }
    return spill;
  }

  @Override
  public final boolean isSpilling() {
    return spill != null;
  }

  @Override
  public final void expectUncompressedAtMost(long bytes) throws IOException {
    expectedMax = bytes;
    if (spill != null) {
      spill.checkRoom(bytes - spillStart);
    }
  }

  @Override
  public final InputStream stream() {
    return stream;
  }

  private int read(byte[] b, int off, int len) throws IOException {
    if (failure != null) {
      throw new IOException(name + ": the decode pass already failed", failure);
    }
    if (eof) {
      return -1;
    }
    if (len == 0) {
      return 0;
    }
    try {
      int n;
      do {
        n = produce(b, off, len);
      } while (n == 0);
      if (n < 0) {
        eof = true;
        in.finishProgress();
        return -1;
      }
      if (spill != null) {
        spill.write(b, off, n);
      }
      produced += n;
      return n;
    } catch (IOException | RuntimeException e) {
      failure = e instanceof IOException io ? io : new IOException(name + ": " + e, e);
      throw failure;
    }
  }

  @Override
  public final SourceMap finish() throws IOException {
    if (map != null) {
      return map;
    }
    if (options.streamOnly()) {
      throw new IllegalStateException("a stream-only pass builds no map");
    }
    stream.transferTo(java.io.OutputStream.nullOutputStream());
    SpillFile spilled = spill == null ? null : spill.commit();
    map = buildMap(produced, spilled, spillStart);
    double secs = (System.nanoTime() - startNanos) / 1e9;
    log.info("{}: decode pass done: {} -> {} bytes in {} s ({} MiB/s out){}", name,
        in.fileSize(), produced, String.format("%.2f", secs),
        String.format("%.0f", produced / 1048576.0 / Math.max(secs, 1e-9)),
        map.isRandomAccessible() ? "" : ", spilled");
    return map;
  }

  @Override
  public void close() throws IOException {
    try {
      if (spill != null) {
        spill.close();
      }
    } finally {
      channel.close();
    }
  }

  private final class PassStream extends InputStream {
    /**
     * The index pass skips every cluster's data. InputStream's own skip reads 2 KiB at a time,
     * which costs a decode call and a spill hand-over per 2 KiB (measured: ~0.5 s per GiB of
     * zstd stream); skipping through a larger buffer makes it one per 256 KiB.
     */
    private byte[] skipBuffer;

    @Override
    public long skip(long n) throws IOException {
      if (n <= 0) {
        return 0;
      }
      if (skipBuffer == null) {
        skipBuffer = new byte[256 << 10];
      }
      int got = DecodePassBase.this.read(skipBuffer, 0, (int) Math.min(n, skipBuffer.length));
      return Math.max(got, 0);
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      int n = DecodePassBase.this.read(one, 0, 1);
      return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      java.util.Objects.checkFromIndexSize(off, len, b.length);
      return DecodePassBase.this.read(b, off, len);
    }
  }
}
