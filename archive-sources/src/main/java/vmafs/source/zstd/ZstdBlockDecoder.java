package vmafs.source.zstd;

import static vmafs.source.CorruptArchiveException.NONE;

import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdException;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import vmafs.source.CorruptArchiveException;
import vmafs.source.CorruptArchiveException.Part;
import vmafs.source.CorruptArchiveException.Where;
import vmafs.vma.io.Endian;
import vmafs.vma.io.StoredBytes;

/**
 * Decodes the blocks of one zstd frame from a block boundary on, with plain libzstd: it is fed a
 * frame header of its own ({@link ZstdFormat#restartHeader}: the frame's window, no checksum, no
 * content size), then the frame's original blocks, with the output that preceded the boundary
 * loaded as a raw-content dictionary (the "prefix"). At the frame's first block the prefix is
 * empty and the decode is exact by the format; anywhere else it reproduces the frame only where
 * the compressor reset its state there (zstd's multithreaded job starts), which the caller must
 * verify (docs/design.md, "Restart points").
 *
 * <p>The compressed input is read block by block (block headers are parsed here, RFC 8878
 * 3.1.1.2), so a caller can tell where each block's output ends ({@link #nextBlock}) or stream
 * output into buffers of any size ({@link #fill}). Not thread-safe.
 */
final class ZstdBlockDecoder implements Closeable {
  /** The least input buffer: one whole block and its header. */
  static final int MIN_INPUT_BUFFER = ZstdFormat.BLOCK_MAX_DECOMPRESSED + ZstdFormat.BLOCK_HEADER_SIZE;

  private final StoredBytes ch;
  private final String name;
  private final ZstdContextPool pool;
  private final ZstdDecompressCtx ctx;
  /** Compressed offset where decoding must stop (a span's end), or -1: at the frame's last block. */
  private final long end;
  private final ByteBuffer in;
  /** File offset of {@code in}'s byte 0; {@code in}'s limit is how much of the file it holds. */
  private long inBase;
  /** The input of the block being fed: a view of {@code in}. */
  private ByteBuffer src = ByteBuffer.allocateDirect(0);
  private long blockAt;
  /** Compressed offset of the block in {@code src} (the one libzstd is decoding). */
  private long fedAt;
  private boolean lastFed;
  /** The last call filled its output buffer, so libzstd may hold output it could not hand over. */
  private boolean pending;
  private boolean done;

  /**
   * @param blockOffset compressed offset of the first block to decode
   * @param end compressed offset to stop at (a block boundary), or -1 for the frame's last block
   * @param prefix output before the block as dictionary; null or empty at the frame's start
   * @param input a direct buffer of at least {@link #MIN_INPUT_BUFFER} bytes that this decoder
   *     may use until it is closed
   */
  ZstdBlockDecoder(StoredBytes ch, String name, ZstdContextPool pool, long blockOffset, long end,
      int windowDescriptor, byte[] prefix, ByteBuffer input) throws IOException {
    if (!input.isDirect() || input.capacity() < MIN_INPUT_BUFFER) {
      throw new IllegalArgumentException("input buffer must be direct and hold a block");
    }
    this.in = input;
    this.ch = ch;
    this.name = name;
    this.pool = pool;
    this.end = end;
    this.blockAt = blockOffset;
    this.ctx = pool.borrow();
    try {
      if (prefix != null && prefix.length > 0) {
        ctx.loadDict(prefix);
      }
      byte[] header = ZstdFormat.restartHeader(windowDescriptor);
      ByteBuffer h = ByteBuffer.allocateDirect(header.length).put(header).flip();
      ByteBuffer none = ByteBuffer.allocateDirect(0);
      ctx.decompressDirectByteBufferStream(none, h);
      if (h.hasRemaining()) {
        throw new IllegalStateException("libzstd did not take a frame header");
      }
    } catch (ZstdException e) {
      close();
      throw new CorruptArchiveException(Where.at(name, blockOffset),
          "cannot restart zstd decoding: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      close();
      throw e;
    }
    in.limit(0);
    inBase = blockOffset;
  }

  /** Compressed offset of the next block not yet fed. */
  long position() {
    return blockAt;
  }

  /** Whether everything up to the end (the span's, or the frame's last block) has been output. */
  boolean finished() {
    return done;
  }

  /**
   * Room {@link #nextBlock} needs: a whole block and one byte more, so that a block that fills the
   * largest size is known to have been handed over completely.
   */
  static final int BLOCK_ROOM = ZstdFormat.BLOCK_MAX_DECOMPRESSED + 1;

  /**
   * Decodes the next block into {@code dst}, which must have {@link #BLOCK_ROOM} bytes free;
   * returns its length, or -1 when there is no next block.
   */
  int nextBlock(ByteBuffer dst) throws IOException {
    if (dst.remaining() < BLOCK_ROOM) {
      throw new IllegalArgumentException("no room for a block: " + dst.remaining());
    }
    if (done || !feedNextBlock()) {
      return -1;
    }
    int start = dst.position();
    drain(dst);
    if (pending) {
      throw new IllegalStateException("a block did not fit " + dst.remaining() + " bytes");
    }
    return dst.position() - start;
  }

  /** Decodes into {@code dst} until it is full or the end is reached; returns the bytes written. */
  int fill(ByteBuffer dst) throws IOException {
    int start = dst.position();
    while (dst.hasRemaining() && !done) {
      if (!src.hasRemaining() && !pending && !feedNextBlock()) {
        break;
      }
      drain(dst);
    }
    return dst.position() - start;
  }

  /** Runs libzstd until the fed block is consumed and its output handed over, or dst is full. */
  private void drain(ByteBuffer dst) throws IOException {
    while (dst.hasRemaining()) {
      int before = dst.position();
      int srcBefore = src.remaining();
      try {
        ctx.decompressDirectByteBufferStream(dst, src);
      } catch (ZstdException e) {
        throw new CorruptArchiveException(Where.of(name, Part.ZSTD_BLOCK, NONE, fedAt),
            "corrupt zstd data (decoding from a restart point): " + e.getMessage(), e);
      }
      if (!src.hasRemaining() && dst.hasRemaining()) {
        break; // the block is consumed and libzstd handed over all it had
      }
      if (dst.position() == before && src.remaining() == srcBefore) {
        throw new CorruptArchiveException(Where.of(name, Part.ZSTD_BLOCK, NONE, fedAt),
            "zstd decoding makes no progress");
      }
    }
    pending = !dst.hasRemaining();
    if (!pending && !src.hasRemaining() && (lastFed || (end >= 0 && blockAt >= end))) {
      done = true;
    }
  }

  /** Parses the next block header and makes {@link #src} hold that block; false at the end. */
  private boolean feedNextBlock() throws IOException {
    if (lastFed || (end >= 0 && blockAt >= end)) {
      done = !pending;
      return false;
    }
    ensure(blockAt, ZstdFormat.BLOCK_HEADER_SIZE);
    int at = (int) (blockAt - inBase);
    int bh = Endian.le24(in, at);
    int type = (bh >>> 1) & 3;
    int size = bh >>> 3;
    if (type == ZstdFormat.BLOCK_TYPE_RESERVED || size > ZstdFormat.BLOCK_MAX_DECOMPRESSED) {
      throw new CorruptArchiveException(Where.of(name, Part.ZSTD_BLOCK, NONE, blockAt),
          "corrupt block header (type " + type + ", size " + size + ")");
    }
    int payload = type == ZstdFormat.BLOCK_TYPE_RLE ? 1 : size;
    long blockEnd = blockAt + ZstdFormat.BLOCK_HEADER_SIZE + payload;
    if (end >= 0 && blockEnd > end) {
      throw new CorruptArchiveException(Where.of(name, Part.ZSTD_BLOCK, NONE, blockAt),
          "runs past the end of its restart span at compressed offset " + end);
    }
    ensure(blockAt, (int) (blockEnd - blockAt));
    src = in.slice(at(blockAt), (int) (blockEnd - blockAt));
    lastFed = (bh & 1) != 0;
    fedAt = blockAt;
    blockAt = blockEnd;
    return true;
  }

  private int at(long offset) {
    return (int) (offset - inBase);
  }

  /** Makes {@code in} hold the file's bytes {@code [from, from + len)}. */
  private void ensure(long from, int len) throws IOException {
    if (from >= inBase && from + len <= inBase + in.limit()) {
      return;
    }
    in.clear();
    if (end >= 0 && end - from >= len && end - from < in.capacity()) {
      in.limit((int) (end - from)); // a remote read asks for the span's bytes, none past its end
    }
    inBase = from;
    long pos = from;
    while (in.position() < len) {
      int n = ch.read(pos, in);
      if (n < 0) {
        throw new EOFException(name + ": truncated: the zstd block at compressed offset " + from
            + " needs " + len + " bytes, the file ends at " + pos);
      }
      pos += n;
    }
    in.flip();
  }

  @Override
  public void close() {
    pool.release(ctx);
  }
}
