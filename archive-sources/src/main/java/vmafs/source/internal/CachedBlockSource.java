package vmafs.source.internal;

import static vmafs.source.CorruptArchiveException.NONE;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.io.Closeable;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import vmafs.cache.BlockCache;
import vmafs.source.CorruptArchiveException;
import vmafs.source.CorruptArchiveException.Part;
import vmafs.source.CorruptArchiveException.Where;
import vmafs.vma.io.ArchiveSource;

/**
 * Random access over a compressed archive made of independently decodable blocks: finds the
 * blocks a read covers, gets each from the {@link BlockCache} (decoding it on a miss) and copies
 * the requested slice into the caller's buffer. The format-specific part is the {@link
 * BlockDecoder}.
 */
public final class CachedBlockSource implements ArchiveSource {
  private final String name;
  private final BlockTable table;
  private final BlockDecoder decoder;
  private final BlockCache cache;
  private final long sourceId;
  private final Closeable resources;
  /**
   * The blocks read last, held outside the cache. A sequential reader asks for the same block once
   * per 64 KiB cluster, many times in a row, and the cache's admission policy (W-TinyLFU) may turn
   * a freshly decoded block away in favour of blocks that were read often before: it would then be
   * decoded again for every cluster (measured: a 1 GiB sequential read of a seekable .vma.zst at
   * 140-340 MB/s instead of 700+). Two slots: a read that straddles two blocks keeps both.
   */
  private final AtomicReferenceArray<Recent> recent = new AtomicReferenceArray<>(2);
  private final AtomicInteger nextSlot = new AtomicInteger();

  private record Recent(int index, byte[] block) {}

  /** @param resources what the decoder reads through; closed with this source */
  public CachedBlockSource(String name, BlockTable table, BlockDecoder decoder, BlockCache cache,
      Closeable resources) {
    this.name = name;
    this.table = table;
    this.decoder = decoder;
    this.cache = cache;
    this.sourceId = cache.newSourceId();
    this.resources = resources;
  }

  @Override
  public void readFully(long position, ByteBuffer dst) throws IOException {
    if (position < 0 || position > table.size() - dst.remaining()) {
      throw new EOFException(name + ": read of " + dst.remaining() + " bytes at offset " + position
          + " is outside the " + table.size() + "-byte uncompressed stream");
    }
    long pos = position;
    while (dst.hasRemaining()) {
      int index = table.indexOf(pos);
      int from = (int) (pos - table.start(index));
      int n = (int) Math.min(dst.remaining(), table.length(index) - (long) from);
      byte[] block = block(index, from + n);
      dst.put(block, from, n);
      pos += n;
    }
  }

  /**
   * Block {@code index}, or a verified prefix of it at least {@code needed} bytes long. A random
   * read gets the prefix it needs, if the decoder can stop early; a reader that just finished the
   * previous block, or outgrew a prefix of this one, gets the whole block (it will want the rest).
   */
  private byte[] block(int index, int needed) throws IOException {
    boolean sequential = false;
    for (int i = 0; i < recent.length(); i++) {
      Recent r = recent.get(i);
      if (r != null && r.index() == index && r.block().length >= needed) {
        return r.block();
      }
      sequential |= r != null && (r.index() == index - 1 || r.index() == index);
    }
    int length = table.length(index);
    int want = sequential || !decoder.decodesPrefixes() ? length : needed;
    byte[] block = cache.get(new BlockCache.Key(sourceId, index), needed,
        () -> decode(index, want), () -> decode(index, length));
    recent.set(nextSlot.getAndIncrement() & 1, new Recent(index, block));
    return block;
  }

  private byte[] decode(int index, int want) throws IOException {
    int length = table.length(index);
    byte[] block = want >= length ? decoder.decode(index) : decoder.decodePrefix(index, want);
    if (want >= length ? block.length != length : block.length < want || block.length > length) {
      // A decoder bug, not bad data: still never serve it.
      throw new CorruptArchiveException(Where.of(name, Part.BLOCK, index, NONE),
          "decoded to " + block.length + " bytes, expected " + (want >= length ? "" : "at least " + want + " and at most ")
          + length);
    }
    return block;
  }

  @Override
  public long size() {
    return table.size();
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public void close() throws IOException {
    recent.set(0, null);
    recent.set(1, null);
    cache.invalidateSource(sourceId);
    resources.close();
  }
}
