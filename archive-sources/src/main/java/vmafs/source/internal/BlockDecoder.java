package vmafs.source.internal;

import java.io.IOException;

/**
 * Decodes one block of a {@link BlockTable} from the compressed file: the only per-format part of a
 * random read. Implementations verify whatever checksum the format offers and throw rather than
 * return bytes they cannot vouch for. Must be thread-safe.
 */
@FunctionalInterface
public interface BlockDecoder {
  /** The whole uncompressed block {@code index}, exactly {@link BlockTable#length} bytes long. */
  byte[] decode(int index) throws IOException;

  /** Whether {@link #decodePrefix} can return less than a whole block. */
  default boolean decodesPrefixes() {
    return false;
  }

  /**
   * The first bytes of block {@code index}, at least {@code minLength} of them (at most the whole
   * block), every one of them verified; the whole block if the format cannot do better.
   */
  default byte[] decodePrefix(int index, int minLength) throws IOException {
    return decode(index);
  }
}
