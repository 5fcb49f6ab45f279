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
    String path = MapCodec.readString(in);
    Path p;
    try {
      p = Path.of(path);
    } catch (java.nio.file.InvalidPathException e) {
      // A NUL byte, say: the map is damaged, which is what the caller must hear (found by fuzzing).
      throw new IOException("source map: the spill path is not a valid path: " + e.getReason());
    }
    long len = MapCodec.nonNegative(in.getLong(), "spill length");
    return new SpillFile(p, len);
  }
}
