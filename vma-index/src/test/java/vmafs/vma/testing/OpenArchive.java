package vmafs.vma.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import vmafs.vma.VmaStreamReader;
import vmafs.vma.image.DeviceImage;
import vmafs.vma.index.ExtentIndex;
import vmafs.vma.index.ExtentIndexBuilder;
import vmafs.vma.io.ChannelInputStream;
import vmafs.vma.io.FileArchiveSource;
import vmafs.vma.Progress;

/** An archive file indexed the way the tool opens it: one scan, then positional reads. */
public final class OpenArchive implements AutoCloseable {
  private final FileArchiveSource source;
  private final ExtentIndex index;

  private OpenArchive(FileArchiveSource source, ExtentIndex index) {
    this.source = source;
    this.index = index;
  }

  public static OpenArchive open(Path p) throws IOException {
    FileArchiveSource source = FileArchiveSource.open(p);
    try {
      VmaStreamReader r = VmaStreamReader.open(new ChannelInputStream(source.channel(), 0, 1 << 16));
      return new OpenArchive(source, ExtentIndexBuilder.build(r, Progress.NONE));
    } catch (IOException | RuntimeException e) {
      source.close();
      throw e;
    }
  }

  public ExtentIndex index() {
    return index;
  }

  public DeviceImage image(String device) {
    return new DeviceImage(index.device(device).orElseThrow(), source);
  }

  /** The whole image, read with one call. */
  public byte[] readAll(String device) throws IOException {
    DeviceImage img = image(device);
    ByteBuffer buf = ByteBuffer.allocate((int) img.size());
    int n = img.read(0, buf);
    if (n != img.size()) {
      throw new AssertionError("read " + n + " of " + img.size());
    }
    return buf.array();
  }

  @Override
  public void close() throws IOException {
    index.close();
    source.close();
  }
}
