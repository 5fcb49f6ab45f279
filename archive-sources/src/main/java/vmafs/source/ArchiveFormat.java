package vmafs.source;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import vmafs.source.gzip.GzipFormat;
import vmafs.source.lzop.LzopFormat;
import vmafs.source.zstd.ZstdFormat;
import vmafs.vma.VmaFormat;
import vmafs.vma.io.Endian;
import vmafs.vma.io.StoredBytes;

/**
 * What an archive file is, decided from its first bytes. The file name is not consulted: vzdump's
 * {@code .dat} temporaries and renamed copies are common, and a wrong extension must not make us
 * decode garbage.
 */
public enum ArchiveFormat {
  RAW_VMA,
  ZSTD,
  LZOP,
  GZIP;

  private static final int HEAD_BYTES = 9;

  /** Reads the first bytes of {@code file} and classifies it. */
  public static ArchiveFormat detect(Path file) throws IOException {
    byte[] head;
    try (InputStream in = Files.newInputStream(file)) {
      head = in.readNBytes(HEAD_BYTES);
    }
    return detect(head, file.toString());
  }

  /** As {@link #detect(Path)}, reading through the stored archive. */
  public static ArchiveFormat detect(StoredBytes stored) throws IOException {
    ByteBuffer b = ByteBuffer.allocate((int) Math.min(HEAD_BYTES, stored.size()));
    stored.readFully(0, b);
    return detect(b.array(), stored.name());
  }

  private static ArchiveFormat detect(byte[] head, String file) throws IOException {
    ArchiveFormat f = detect(head);
    if (f == null) {
      throw new vmafs.vma.MalformedArchiveException("magic", 0, file + " is not a VMA archive"
          + " (expected \"VMA\\0\") and not a zstd, lzop or gzip file either: first bytes "
          + (head.length == 0 ? "(empty file)" : HexFormat.ofDelimiter(" ").formatHex(head)));
    }
    return f;
  }

  /** Classifies a file by its first bytes; {@code null} when nothing matches. */
  public static ArchiveFormat detect(byte[] head) {
    // A file shorter than the magic that starts like one is a truncated VMA: say that, precisely.
    if (startsWith(head, VmaFormat.MAGIC) || head.length > 0 && head.length < VmaFormat.MAGIC.length
        && java.util.Arrays.equals(head, 0, head.length, VmaFormat.MAGIC, 0, head.length)) {
      return RAW_VMA;
    }
    if (startsWith(head, LzopFormat.MAGIC)) {
      return LZOP;
    }
    if (head.length >= 2 && (head[0] & 0xff) == GzipFormat.ID1 && (head[1] & 0xff) == GzipFormat.ID2) {
      return GZIP;
    }
    if (head.length >= 4) {
      int magic = Endian.le32(head, 0);
      if (magic == ZstdFormat.FRAME_MAGIC || ZstdFormat.isSkippableMagic(magic)) {
        return ZSTD;
      }
    }
    return null;
  }

  private static boolean startsWith(byte[] head, byte[] magic) {
    if (head.length < magic.length) {
      return false;
    }
    for (int i = 0; i < magic.length; i++) {
      if (head[i] != magic[i]) {
        return false;
      }
    }
    return true;
  }
}
