package vmafs.vma;

import static vmafs.vma.VmaFormat.*;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * Reads a VMA archive front to back from any stream: a file (where skipping data is free), stdin,
 * or a decompressor. One pass, no seeking; the index builder, {@code verify} and streaming
 * {@code extract} are built on it.
 */
public final class VmaStreamReader {
  private final InputStream in;
  private final VmaHeader header;
  private final byte[] headerBytes;
  private final byte[] extentBuf = new byte[EXTENT_HEADER_SIZE];
  private long position;
  private ExtentHeader current;
  private boolean dataConsumed = true;

  private VmaStreamReader(InputStream in, VmaHeader header, byte[] headerBytes, long position) {
    this.in = in;
    this.header = header;
    this.headerBytes = headerBytes;
    this.position = position;
  }

  /** Reads and validates the main header. */
  public static VmaStreamReader open(InputStream in) throws IOException {
    byte[] fixed = new byte[FIXED_HEADER_SIZE];
    int got = in.readNBytes(fixed, 0, FIXED_HEADER_SIZE);
    if (got == 0) {
      throw new MalformedArchiveException("magic", 0, "empty file: not a VMA archive");
    }
    if (got >= 4) {
      VmaHeader.checkMagic(fixed); // a wrong magic says more than a truncation
    }
    if (got < FIXED_HEADER_SIZE) {
      throw new MalformedArchiveException("header", got,
          "archive truncated inside the fixed header (" + got + " of " + FIXED_HEADER_SIZE + " bytes)");
    }
    int size = VmaHeader.headerSize(fixed);
    // readNBytes(len) grows its buffer as bytes arrive, so a header_size that lies on a short
    // file costs what the file holds, not the (up to ~50 MB) it claims.
    byte[] rest = in.readNBytes(size - FIXED_HEADER_SIZE);
    if (rest.length < size - FIXED_HEADER_SIZE) {
      throw new MalformedArchiveException("header", FIXED_HEADER_SIZE + (long) rest.length,
          "archive truncated inside the header blob area (" + (FIXED_HEADER_SIZE + rest.length)
              + " of " + size + " bytes)");
    }
    byte[] all = Arrays.copyOf(fixed, size);
    System.arraycopy(rest, 0, all, FIXED_HEADER_SIZE, rest.length);
    return new VmaStreamReader(in, VmaHeader.parse(all), all, size);
  }

  public VmaHeader header() {
    return header;
  }

  /** The header exactly as it was read, for tools that copy the archive (convert). */
  public byte[] headerBytes() {
    return headerBytes.clone();
  }

  /** The 512 bytes of the current extent header exactly as read. */
  public byte[] extentHeaderBytes() {
    return extentBuf.clone();
  }

  /** Stream offset of the next unread byte. */
  public long position() {
    return position;
  }

  /**
   * Reads the next extent header, skipping the previous extent's data if it was not read.
   *
   * @return the header, or null at a clean end of the archive (end of stream on an extent
   *     boundary)
   */
  public ExtentHeader nextExtent() throws IOException {
    if (!dataConsumed) {
      skipData();
    }
    int got = in.readNBytes(extentBuf, 0, EXTENT_HEADER_SIZE);
    if (got == 0) {
      return null;
    }
    if (got < EXTENT_HEADER_SIZE) {
      throw new MalformedArchiveException("extent header", position,
          "archive truncated inside an extent header (" + got + " of " + EXTENT_HEADER_SIZE
              + " bytes)");
    }
    current = ExtentHeader.parse(extentBuf, 0, position, header);
    position += EXTENT_HEADER_SIZE;
    dataConsumed = current.blockCount() == 0;
    return current;
  }

  /** Skips the stored blocks of the current extent. */
  public void skipData() throws IOException {
    long need = (long) current.blockCount() * BLOCK_SIZE;
    long done = 0;
    // Skip all but the last byte, then read that one: InputStream.skip may seek past the end of a
    // file (FileInputStream does, and so does stdin redirected from a file), so only a read proves
    // that a truncated archive is truncated.
    while (done < need - 1) {
      long s = in.skip(need - 1 - done);
      if (s <= 0) {
        if (in.read() < 0) {
          throw truncatedData(done, need);
        }
        s = 1;
      }
      done += s;
    }
    if (need > 0 && in.read() < 0) {
      throw truncatedData(-1, need);
    }
    position += need;
    dataConsumed = true;
  }

  /**
   * Reads the stored blocks of the current extent into {@code buf}, which must hold at least
   * {@code blockCount × 4096} bytes.
   */
  public void readData(byte[] buf) throws IOException {
    int need = current.blockCount() * BLOCK_SIZE;
    int got = in.readNBytes(buf, 0, need);
    if (got < need) {
      throw truncatedData(got, need);
    }
    position += need;
    dataConsumed = true;
  }

  private MalformedArchiveException truncatedData(long have, long need) {
    return new MalformedArchiveException("extent data", current.dataOffset(),
        "archive truncated inside the data of the extent at offset " + current.offset() + " (have "
            + (have < 0 ? "fewer than " + need : have + " of " + need) + " bytes)");
  }
}
