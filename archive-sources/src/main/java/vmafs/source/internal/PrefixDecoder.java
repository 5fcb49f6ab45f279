package vmafs.source.internal;

import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link BlockDecoder} for formats whose blocks can be decoded from their start up to any point
 * (a zstd frame, a gzip span) and that have {@link ChunkChecksums}: a random read decodes only the
 * chunks it needs and checks them. If a prefix fails its chunks, the whole block is decoded under
 * the format's own check, which decides: bad data fails the read, a bad checksum table is
 * dropped (with a warning) and the read succeeds.
 */
public abstract class PrefixDecoder implements BlockDecoder {
  private static final Logger log = LoggerFactory.getLogger(PrefixDecoder.class);

  protected final String name;
  private volatile ChunkChecksums chunks;

  /** @param chunks null if the archive has none; then every decode is of whole blocks */
  public PrefixDecoder(String name, ChunkChecksums chunks) {
    this.name = name;
    this.chunks = chunks;
  }

  /** Uncompressed length of block {@code index}. */
  protected abstract int length(int index);

  /** The first {@code len} bytes of block {@code index}, not yet verified; exactly {@code len}. */
  protected abstract byte[] decodeFirst(int index, int len) throws IOException;

  /** Where block {@code index} is in the archive, for messages. */
  protected abstract String where(int index);

  @Override
  public final boolean decodesPrefixes() {
    return chunks != null;
  }

  @Override
  public final byte[] decodePrefix(int index, int minLength) throws IOException {
    ChunkChecksums c = chunks;
    int length = length(index);
    int want = c == null ? length : c.prefixFor(minLength, length);
    if (want >= length) {
      return decode(index);
    }
    byte[] prefix = decodeFirst(index, want);
    if (c.matches(index, prefix, want)) {
      return prefix;
    }
    byte[] whole = decode(index);
    chunks = null;
    log.warn("{}: the chunk checksums disagree with {}, whose own check holds; ignoring them from"
        + " now on (random reads will decode whole blocks)", name, where(index));
    return whole;
  }
}
