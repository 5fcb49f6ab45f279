package vmafs.source.gzip;

import java.io.IOException;
import vmafs.source.CorruptArchiveException;
import vmafs.source.internal.FileReads;
import vmafs.vma.io.StoredBytes;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import vmafs.source.CorruptArchiveException.Where;

/**
 * Resumes raw inflation at a byte-aligned block boundary with a preset 32 KiB window: how random
 * reads decode a checkpoint span, how the pass probes a candidate restart point, and how it
 * re-creates the start of a spill.
 */
final class GzipInflate {
  private static final int READ_CHUNK = 64 << 10;
  /**
   * A span's compressed bytes are read in one call up to this size: one range request of exactly
   * the span for a remote archive instead of one per 64 KiB (docs/design.md, "Archives in object
   * storage").
   */
  private static final int SPAN_READ = 2 << 20;

  private GzipInflate() {}

  /** Receives inflated bytes. */
  interface Sink {
    /** Returns false to stop early. */
    boolean accept(byte[] b, int off, int len) throws IOException;
  }

  /**
   * Inflates from compressed offset {@code from} (reading no further than {@code to}) with the
   * given window, handing output to {@code sink} until it has {@code maxOut} bytes, the sink stops,
   * or the deflate stream ends. Returns the number of bytes produced.
   */
  static long inflate(StoredBytes ch, String name, long from, long to, byte[] window,
      long maxOut, Sink sink) throws IOException {
    return inflate(ch, name, from, to, null, window, maxOut, new byte[READ_CHUNK], false, READ_CHUNK, sink);
  }

  /**
   * As {@link #inflate(StoredBytes, String, long, long, byte[], long, Sink)}, with the compressed
   * bytes from {@code from} on already in memory: {@code head[headOff..headEnd)}; only what the
   * inflater needs past them is read from {@code ch}. The pass probes a candidate with the input it
   * has buffered, so a remote archive's probe costs no request.
   */
  static long inflate(StoredBytes ch, String name, long from, long to, byte[] head, int headOff, int headEnd,
      byte[] window, long maxOut, Sink sink) throws IOException {
    return inflate(ch, name, from, to, new Head(head, headOff, headEnd), window, maxOut, new byte[READ_CHUNK],
        false, READ_CHUNK, sink);
  }

  private record Head(byte[] bytes, int off, int end) {}

  /**
   * @param out where inflated bytes go: reused from offset 0 for every piece, or with {@code
   *     fill}, filled from 0 up to {@code maxOut} (then it must hold that many)
   */
  private static long inflate(StoredBytes ch, String name, long from, long to, Head head,
      byte[] window, long maxOut, byte[] out, boolean fill, int readChunk, Sink sink) throws IOException {
    Inflater inf = new Inflater(true);
    try {
      if (window.length > 0) {
        inf.setDictionary(window);
      }
      byte[] in = new byte[(int) Math.min(readChunk, Math.max(1, to - from))];
      long pos = from;
      long chunkStart = from;
      if (head != null && head.end() > head.off()) {
        int n = (int) Math.min(head.end() - head.off(), to - from);
        inf.setInput(head.bytes(), head.off(), n);
        pos += n;
      }
      long produced = 0;
      while (produced < maxOut && !inf.finished()) {
        if (inf.needsInput()) {
          int n = (int) Math.min(in.length, to - pos);
          if (n <= 0) {
            break;
          }
          FileReads.readFully(ch, name, pos, in, 0, n);
          inf.setInput(in, 0, n);
          chunkStart = pos;
          pos += n;
        }
        int n;
        int at = fill ? (int) produced : 0;
        try {
          n = inf.inflate(out, at, (int) Math.min(out.length - at, maxOut - produced));
        } catch (DataFormatException e) {
          throw new CorruptArchiveException(Where.at(name, chunkStart),
              "corrupt deflate data before compressed offset " + pos + ": " + e.getMessage(), e);
        }
        if (n == 0 && inf.needsDictionary()) {
          throw new CorruptArchiveException(Where.at(name, from),
              "the deflate stream unexpectedly asks for a dictionary");
        }
        if (n > 0) {
          produced += n;
          if (!sink.accept(out, at, n)) {
            break;
          }
        }
      }
      return produced;
    } finally {
      inf.end();
    }
  }

  /** Decodes exactly {@code len} bytes of a span; anything else is an error. */
  static byte[] span(StoredBytes ch, String name, long from, long to, byte[] window, int len)
      throws IOException {
    // Inflated straight into the result: a cold random read inflates half a MiB on average, and
    // an extra copy of it is a few per cent of the read.
    byte[] out = new byte[len];
    long n = inflate(ch, name, from, to, null, window, len, out, true, SPAN_READ, (b, off, k) -> true);
    if (n != len) {
      throw new CorruptArchiveException(Where.at(name, from), "the gzip span up to compressed offset "
          + to + " inflated to " + n + " bytes, expected " + len + "; the archive is damaged or changed");
    }
    return out;
  }
}
