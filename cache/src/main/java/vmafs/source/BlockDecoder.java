package vmafs.source;

import java.io.IOException;

/**
 * Decodes one block of a {@link BlockTable} from the compressed file: the only per-format part of a
 * random read. Implementations verify whatever checksum the format offers and throw rather than
 * return bytes they cannot vouch for. Must be thread-safe.
 */
@FunctionalInterface
interface BlockDecoder {
  /** The whole uncompressed block {@code index}, exactly {@link BlockTable#length} bytes long. */
  byte[] decode(int index) throws IOException;
}
