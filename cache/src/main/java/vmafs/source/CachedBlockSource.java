package vmafs.source;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.io.Closeable;
import vmafs.cache.BlockCache;
import vmafs.vma.io.ArchiveSource;

/**
 * Random access over a compressed archive made of independently decodable blocks: finds the
 * blocks a read covers, gets each from the {@link BlockCache} (decoding it on a miss) and copies
 * the requested slice into the caller's buffer. The format-specific part is the {@link
 * BlockDecoder}.
 */
final class CachedBlockSource implements ArchiveSource {
  private final String name;
  private final BlockTable table;
  private final BlockDecoder decoder;
  private final BlockCache cache;
  private final long sourceId;
  private final Closeable resources;

  /** @param resources what the decoder reads through; closed with this source */
  CachedBlockSource(String name, BlockTable table, BlockDecoder decoder, BlockCache cache,
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
      byte[] block = cache.get(new BlockCache.Key(sourceId, index), () -> decode(index));
      int from = (int) (pos - table.start(index));
      int n = Math.min(dst.remaining(), block.length - from);
      dst.put(block, from, n);
      pos += n;
    }
  }

  private byte[] decode(int index) throws IOException {
    byte[] block = decoder.decode(index);
    if (block.length != table.length(index)) {
      // A decoder bug, not bad data: still never serve it.
      throw new CorruptArchiveException(name + ": block #" + index + " decoded to " + block.length
          + " bytes, expected " + table.length(index));
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
    cache.invalidateSource(sourceId);
    resources.close();
  }
}
