package vmafs.vma;

import static vmafs.vma.MalformedArchiveException.check;
import static vmafs.vma.VmaFormat.*;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import vmafs.vma.io.Endian;

/**
 * The archive's main header: identity, configuration files and devices. Immutable; built by
 * {@link #parse} (every check the official reader makes, in its order, plus bounds on every
 * length) or by the writer.
 */
public final class VmaHeader {
  /**
   * No valid header is larger: 768 blobs (256 config names, 256 config data, 256 device names) of
   * at most 2 + 65535 bytes each, plus the fixed part. A larger header_size is rejected before
   * anything is allocated for it.
   */
  public static final int MAX_PARSED_HEADER_SIZE = FIXED_HEADER_SIZE + 768 * (2 + MAX_BLOB_LENGTH);

  private final int version;
  private final byte[] uuid;
  private final long ctime;
  private final int headerSize;
  private final List<ConfigBlob> configs;
  private final List<DeviceInfo> devices;
  private final int[] configSlots;

  /** A header whose configs sit in table slots 0, 1, 2, … (as every writer fills them). */
  public VmaHeader(int version, byte[] uuid, long ctime, int headerSize, List<ConfigBlob> configs,
      List<DeviceInfo> devices) {
    this(version, uuid, ctime, headerSize, configs, devices,
        java.util.stream.IntStream.range(0, configs.size()).toArray());
  }

  private VmaHeader(int version, byte[] uuid, long ctime, int headerSize, List<ConfigBlob> configs,
      List<DeviceInfo> devices, int[] configSlots) {
    if (uuid.length != UUID_SIZE) {
      throw new IllegalArgumentException("uuid must be 16 bytes");
    }
    this.version = version;
    this.uuid = uuid.clone();
    this.ctime = ctime;
    this.headerSize = headerSize;
    this.configs = List.copyOf(configs);
    this.devices = List.copyOf(devices);
    this.configSlots = configSlots;
  }

  public int version() {
    return version;
  }

  public byte[] uuid() {
    return uuid.clone();
  }

  /** The uuid in the usual 8-4-4-4-12 hex form. */
  public String uuidString() {
    String h = HexFormat.of().formatHex(uuid);
    return h.substring(0, 8) + "-" + h.substring(8, 12) + "-" + h.substring(12, 16) + "-"
        + h.substring(16, 20) + "-" + h.substring(20);
  }

  /** Seconds since the epoch, when the backup wrote its header. */
  public long ctime() {
    return ctime;
  }

  public Instant ctimeInstant() {
    return Instant.ofEpochSecond(ctime);
  }

  /** Bytes from the start of the archive to the first extent. */
  public int headerSize() {
    return headerSize;
  }

  public List<ConfigBlob> configs() {
    return configs;
  }

  /** Present devices in dev_id order. */
  public List<DeviceInfo> devices() {
    return devices;
  }

  /**
   * Archive offset of the name pointer of {@code configs().get(i)} (config_names[slot]), for
   * messages about that config: slots left empty are skipped, so the slot can differ from i.
   */
  public long configNameFieldOffset(int i) {
    return OFF_CONFIG_NAMES + 4L * configSlots[i];
  }

  public Optional<DeviceInfo> device(int devId) {
    return devices.stream().filter(d -> d.id() == devId).findFirst();
  }

  public Optional<ConfigBlob> config(String name) {
    return configs.stream().filter(c -> c.name().equals(name)).findFirst();
  }

  public boolean uuidEquals(byte[] other, int offset) {
    return Arrays.equals(uuid, 0, UUID_SIZE, other, offset, offset + UUID_SIZE);
  }

  /**
   * Reads {@code header_size} from the fixed part, checking the magic first (a wrong magic is the
   * most useful thing to report for a file that is not a VMA at all).
   *
   * @param fixed at least the first {@link VmaFormat#FIXED_HEADER_SIZE} bytes of the archive
   * @return the total header size; the caller reads that many bytes and calls {@link #parse}
   */
  public static int headerSize(byte[] fixed) throws MalformedArchiveException {
    checkMagic(fixed);
    long size = Endian.be32Unsigned(fixed, OFF_HEADER_SIZE);
    check(size > FIXED_HEADER_SIZE, "header_size", OFF_HEADER_SIZE,
        "wrong vma header size " + size + " (must be larger than " + FIXED_HEADER_SIZE + ")");
    check(size <= MAX_PARSED_HEADER_SIZE, "header_size", OFF_HEADER_SIZE,
        "header size " + size + " exceeds the largest possible header (" + MAX_PARSED_HEADER_SIZE + ")");
    return (int) size;
  }

  /** Checks the first four bytes of the archive. */
  public static void checkMagic(byte[] first4) throws MalformedArchiveException {
    check(Arrays.equals(first4, OFF_MAGIC, OFF_MAGIC + 4, MAGIC, 0, 4), "magic", OFF_MAGIC,
        "not a VMA archive (expected \"VMA\\0\", found "
            + HexFormat.ofDelimiter(" ").formatHex(first4, 0, 4) + ")");
  }

  /**
   * Parses and validates a complete header.
   *
   * @param bytes exactly {@code header_size} bytes from archive offset 0
   */
  public static VmaHeader parse(byte[] bytes) throws MalformedArchiveException {
    int headerSize = headerSize(bytes);
    check(bytes.length == headerSize, "header_size", OFF_HEADER_SIZE,
        "header needs " + headerSize + " bytes, got " + bytes.length);

    byte[] stored = Arrays.copyOfRange(bytes, OFF_HEADER_MD5, OFF_HEADER_MD5 + MD5_SIZE);
    byte[] actual = headerMd5(bytes);
    check(Arrays.equals(stored, actual), "header md5", OFF_HEADER_MD5,
        "checksum mismatch (stored " + HexFormat.of().formatHex(stored) + ", computed "
            + HexFormat.of().formatHex(actual) + ")");

    long version = Endian.be32Unsigned(bytes, OFF_VERSION);
    check(version == VERSION, "version", OFF_VERSION,
        "unsupported VMA version " + version + " (only " + VERSION + " exists)");

    long blobOffset = Endian.be32Unsigned(bytes, OFF_BLOB_BUFFER_OFFSET);
    long blobSize = Endian.be32Unsigned(bytes, OFF_BLOB_BUFFER_SIZE);
    check(blobOffset >= FIXED_HEADER_SIZE, "blob_buffer_offset", OFF_BLOB_BUFFER_OFFSET,
        "blob buffer offset " + blobOffset + " lies inside the fixed header");
    check(blobOffset + blobSize <= headerSize, "blob_buffer_size", OFF_BLOB_BUFFER_SIZE,
        "blob buffer [" + blobOffset + ", " + (blobOffset + blobSize) + ") runs past header_size "
            + headerSize);

    Blobs blobs = new Blobs(bytes, (int) blobOffset, (int) blobSize);

    List<DeviceInfo> devices = new ArrayList<>();
    for (int id = FIRST_DEV_ID; id <= LAST_DEV_ID; id++) {
      int at = OFF_DEV_INFO + id * DEV_INFO_SIZE;
      long size = Endian.be64(bytes, at + DEV_OFF_SIZE);
      long namePtr = Endian.be32Unsigned(bytes, at + DEV_OFF_NAME_PTR);
      if (size == 0 || namePtr == 0) {
        continue;
      }
      // The official reader silently drops a device whose name does not resolve; a backup tool
      // must not silently drop a disk, so this is an error.
      String name = blobs.string(namePtr, "dev_info[" + id + "].devname_ptr", at + DEV_OFF_NAME_PTR);
      check(size > 0, "dev_info[" + id + "].size", at + DEV_OFF_SIZE,
          "device size " + Long.toUnsignedString(size) + " is too large");
      check(VmaFormat.clusterCount(size) <= 1L << 32, "dev_info[" + id + "].size", at + DEV_OFF_SIZE,
          "device size " + size + " exceeds the format's 256 TiB limit");
      devices.add(new DeviceInfo(id, name, size));
    }

    List<ConfigBlob> configs = new ArrayList<>();
    int[] slots = new int[MAX_CONFIGS];
    for (int i = 0; i < MAX_CONFIGS; i++) {
      long namePtr = Endian.be32Unsigned(bytes, OFF_CONFIG_NAMES + 4 * i);
      long dataPtr = Endian.be32Unsigned(bytes, OFF_CONFIG_DATA + 4 * i);
      if (namePtr == 0 || dataPtr == 0) {
        continue;
      }
      String name = blobs.string(namePtr, "config_names[" + i + "]", OFF_CONFIG_NAMES + 4 * i);
      byte[] data = blobs.bytes(dataPtr, "config_data[" + i + "]", OFF_CONFIG_DATA + 4 * i);
      slots[configs.size()] = i;
      configs.add(new ConfigBlob(name, data));
    }

    return new VmaHeader((int) version, Arrays.copyOfRange(bytes, OFF_UUID, OFF_UUID + UUID_SIZE),
        Endian.be64(bytes, OFF_CTIME), headerSize, configs, devices,
        Arrays.copyOf(slots, configs.size()));
  }

  /** MD5 over the header with the checksum field taken as zeros. */
  public static byte[] headerMd5(byte[] header) {
    MessageDigest md5 = md5();
    md5.update(header, 0, OFF_HEADER_MD5);
    md5.update(new byte[MD5_SIZE]);
    md5.update(header, OFF_HEADER_MD5 + MD5_SIZE, header.length - OFF_HEADER_MD5 - MD5_SIZE);
    return md5.digest();
  }

  static MessageDigest md5() {
    try {
      return MessageDigest.getInstance("MD5");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform provides MD5", e);
    }
  }

  /**
   * The blob buffer, walked the way the official reader walks it: a pointer is valid only if it
   * is the start of a blob on the chain from position 1 that fits inside the buffer.
   */
  private static final class Blobs {
    private final byte[] header;
    private final int base;
    private final BitSet starts = new BitSet();

    Blobs(byte[] header, int base, int size) {
      this.header = header;
      this.base = base;
      int pos = FIRST_BLOB_POSITION;
      while (pos + BLOB_LENGTH_PREFIX <= size) {
        int len = lengthAt(pos);
        if (pos + BLOB_LENGTH_PREFIX + len <= size) {
          starts.set(pos);
        }
        pos += BLOB_LENGTH_PREFIX + len;
      }
    }

    private int lengthAt(int pos) {
      // The one little-endian field of the format.
      return Endian.le16(header, base + pos);
    }

    byte[] bytes(long ptr, String field, int fieldOffset) throws MalformedArchiveException {
      check(ptr < Integer.MAX_VALUE && starts.get((int) ptr), field, fieldOffset,
          "blob pointer " + ptr + " does not point at a blob (invalid data pointer)");
      int start = base + (int) ptr + BLOB_LENGTH_PREFIX;
      return Arrays.copyOfRange(header, start, start + lengthAt((int) ptr));
    }

    String string(long ptr, String field, int fieldOffset) throws MalformedArchiveException {
      byte[] b = bytes(ptr, field, fieldOffset);
      long blobAt = (long) base + ptr;
      check(b.length > 0 && b[b.length - 1] == 0, field, blobAt,
          "string blob is not NUL-terminated");
      int end = 0;
      while (b[end] != 0) {
        end++;
      }
      check(end > 0, field, blobAt, "empty name");
      return new String(b, 0, end, StandardCharsets.UTF_8);
    }
  }
}
