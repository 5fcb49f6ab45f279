package vmafs.source.raw;

import java.io.IOException;
import vmafs.cache.BlockCache;
import vmafs.source.ArchiveFormat;
import vmafs.source.RandomAccess;
import vmafs.source.SourceMap;
import vmafs.source.internal.MapCodec;
import vmafs.vma.io.ArchiveSource;
import vmafs.vma.io.StoredBytes;
import vmafs.vma.io.StoredSource;

/** An uncompressed {@code .vma}: the archive is its own stream. */
public record RawMap(long archiveSize) implements SourceMap {
  @Override
  public ArchiveFormat format() {
    return ArchiveFormat.RAW_VMA;
  }

  @Override
  public long uncompressedSize() {
    return archiveSize;
  }

  @Override
  public RandomAccess randomAccess() {
    return new RandomAccess(RandomAccess.DIRECT, 0, 0, 0);
  }

  @Override
  public ArchiveSource open(StoredBytes archive, BlockCache cache) throws IOException {
    MapCodec.checkArchiveSize(archive, archiveSize);
    return new RangeCheckedSource(new StoredSource(archive));
  }

  @Override
  public void writeTo(java.io.OutputStream os) throws IOException {
    MapCodec.write(os, MapCodec.KIND_RAW, archiveSize, archiveSize, out -> {});
  }
}
