package vmafs.source.raw;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import vmafs.cache.BlockCache;
import vmafs.source.ArchiveFormat;
import vmafs.source.RandomAccess;
import vmafs.source.SourceMap;
import vmafs.source.internal.MapCodec;
import vmafs.source.internal.SpillFile;
import vmafs.vma.io.ArchiveSource;

/**
 * A compressed archive that could not be read at random (single-frame zstd as vzdump writes it,
 * gzip without restart points): the whole decompressed stream lives in a spill file.
 */
public record SpillMap(ArchiveFormat format, long archiveSize, SpillFile spill)
    implements SourceMap {

  @Override
  public long uncompressedSize() {
    return spill.length();
  }

  @Override
  public boolean isRandomAccessible() {
    return false;
  }

  @Override
  public RandomAccess randomAccess() {
    return new RandomAccess(RandomAccess.SPILL, 0, 0, spill.length());
  }

  /** The spill file the source reads; it must still exist when the map is opened. */
  public Path spillPath() {
    return spill.path();
  }

  @Override
  public ArchiveSource open(vmafs.vma.io.StoredBytes archive, BlockCache cache) throws IOException {
    MapCodec.checkArchiveSize(archive, archiveSize);
    return spill.open();
  }

  @Override
  public void writeTo(java.io.OutputStream os) throws IOException {
    MapCodec.write(os, MapCodec.KIND_SPILL, archiveSize, spill.length(), out -> {
      out.writeByte(format.ordinal());
      spill.write(out);
    });
  }

  public static SpillMap readBody(ByteBuffer in, long archiveSize, long size, Path spillPath)
      throws IOException {
    int f = in.get() & 0xff;
    if (f >= ArchiveFormat.values().length) {
      throw new IOException("source map: unknown format " + f);
    }
    SpillFile spill = SpillFile.read(in, spillPath);
    if (spill.length() != size) {
      throw new IOException("source map: spill length " + spill.length() + " != " + size);
    }
    return new SpillMap(ArchiveFormat.values()[f], archiveSize, spill);
  }
}
