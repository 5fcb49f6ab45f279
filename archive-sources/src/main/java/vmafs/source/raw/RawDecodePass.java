package vmafs.source.raw;

import java.io.IOException;
import vmafs.source.ArchiveFormat;
import vmafs.source.DecodeOptions;
import vmafs.source.SourceMap;
import vmafs.source.internal.DecodePassBase;
import vmafs.source.internal.SpillFile;
import vmafs.vma.io.StoredBytes;

/** An uncompressed {@code .vma}: the pass only copies, so callers can treat every archive alike. */
public final class RawDecodePass extends DecodePassBase {
  public RawDecodePass(StoredBytes archive, boolean owns, DecodeOptions options) throws IOException {
    super(archive, owns, options);
  }

  @Override
  public ArchiveFormat format() {
    return ArchiveFormat.RAW_VMA;
  }

  @Override
  protected int produce(byte[] b, int off, int len) throws IOException {
    if (!in.fill()) {
      return -1;
    }
    int n = Math.min(len, in.available());
    in.readFully(b, off, n);
    return n;
  }

  @Override
  protected SourceMap buildMap(long size, SpillFile spill, long spillStart) {
    return new RawMap(size);
  }
}
