package vmafs.source;

import java.io.IOException;
import java.nio.file.Path;
import vmafs.cache.BlockCache;
import vmafs.vma.io.ArchiveSource;
import vmafs.vma.io.FileArchiveSource;

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
  public ArchiveSource open(Path archive, BlockCache cache) throws IOException {
    MapCodec.checkArchiveSize(archive, archiveSize);
    return new RangeCheckedSource(FileArchiveSource.open(archive));
  }

  @Override
  public void writeTo(java.io.OutputStream os) throws IOException {
    MapCodec.write(os, MapCodec.KIND_RAW, archiveSize, archiveSize, out -> {});
  }
}
