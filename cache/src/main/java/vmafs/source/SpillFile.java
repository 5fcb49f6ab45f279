package vmafs.source;

import java.io.IOException;
import java.io.DataOutput;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import vmafs.vma.io.ArchiveSource;
import vmafs.vma.io.FileArchiveSource;

/** A completed spill file: a plain copy of (part of) the decompressed stream. */
public record SpillFile(Path path, long length) {

  ArchiveSource open() throws IOException {
    FileArchiveSource src = FileArchiveSource.open(path);
    if (src.size() != length) {
      long actual = src.size();
      src.close();
      throw new IOException("spill file " + path + " has " + actual + " bytes, expected "
          + length + "; delete it and run the decode pass again");
    }
    return new RangeCheckedSource(src);
  }

  void write(DataOutput out) throws IOException {
    MapCodec.writeString(out, path.toString());
    out.writeLong(length);
  }

  static SpillFile read(ByteBuffer in) throws IOException {
    Path p = Path.of(MapCodec.readString(in));
    long len = MapCodec.nonNegative(in.getLong(), "spill length");
    return new SpillFile(p, len);
  }
}
