package vmafs.vma.index;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.zip.CRC32C;
import vmafs.vma.ConfigBlob;
import vmafs.vma.DeviceInfo;
import vmafs.vma.VmaHeader;

/**
 * The saved index: a versioned, checksummed file whose cluster tables are memory-mapped on load,
 * so a remount parses a few kilobytes, not 16 M entries.
 *
 * <pre>
 * page 0       fixed header: magic, version, where the metadata is, CRC32Cs
 * page 1 …     one cluster table per device (7 bytes per cluster, little-endian), page-aligned
 * then         named sections (a compressed format's map), streamed in, page-aligned; any size
 * last         metadata: archive identity, VMA header fields, per-device stats, summaries, and
 *              offsets, lengths and CRC32Cs of the tables and sections
 * </pre>
 *
 * Written to a temporary name and renamed into place, so readers only ever see complete files and
 * concurrent builders of the same index cannot corrupt each other.
 */
public final class IndexFile {
  static final byte[] MAGIC = "VMAFSIDX".getBytes(StandardCharsets.US_ASCII);
  /**
   * Bumped whenever the layout or the meaning of a field changes; older files are rebuilt. 3:
   * sections say who checks them, and may exceed 2 GiB.
   */
  public static final int FORMAT_VERSION = 3;
  static final int PAGE = 4096;
  static final int OFF_MAGIC = 0; // 8 bytes
  static final int OFF_VERSION = 8; // u32
  static final int OFF_META_OFFSET = 16; // u64
  static final int OFF_META_LENGTH = 24; // u64
  static final int OFF_META_CRC = 32; // u32
  static final int OFF_HEADER_CRC = 36; // u32 over bytes [0, 36)
  static final int FIXED_LENGTH = 40;
  /** Metadata is small (a few KiB plus summaries); more means a corrupt length, not a big archive. */
  static final long MAX_META_LENGTH = 1L << 30;

  private IndexFile() {}

  /** A loaded index and the named sections that were saved with it. */
  public record Loaded(ExtentIndex index, ArchiveIdentity identity,
      Map<String, IndexSection> sections) {}

  /** Builds an index straight into a new index file. */
  public static final class Writer implements AutoCloseable {
    private final Path target;
    private final Path tmp;
    private final FileChannel channel;
    private final Map<Integer, Long> tableOffsets = new LinkedHashMap<>();
    private final long tablesEnd;
    private final int headerSize;
    private boolean done;

    public Writer(Path target, VmaHeader header) throws IOException {
      this.target = target;
      this.headerSize = header.headerSize();
      this.tmp = target.resolveSibling(target.getFileName() + ".tmp-" + ProcessHandle.current().pid()
          + "-" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
      this.channel = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
          StandardOpenOption.WRITE);
      long at = PAGE;
      for (DeviceInfo d : header.devices()) {
        tableOffsets.put(d.id(), at);
        at = align(at + ClusterTable.bytes(d.clusterCount()));
      }
      this.tablesEnd = at;
    }

    /** Tables mapped read-write from the file being written; use with {@link ExtentIndexBuilder}. */
    public ExtentIndexBuilder.TableFactory tables() {
      return d -> ClusterTable.map(channel, tableOffsets.get(d.id()), d.clusterCount(), headerSize,
          FileChannel.MapMode.READ_WRITE);
    }

    /**
     * Writes the sections, metadata and checksums and renames the file into place.
     *
     * @param sections named sections saved with the index, streamed into the file in this order
     * @return the sections as saved, mapped from the committed file (valid after it is closed)
     */
    public Map<String, IndexSection> commit(ExtentIndex index, ArchiveIdentity identity,
        Map<String, IndexSection.ToSave> sections) throws IOException {
      long at = tablesEnd;
      Map<String, long[]> placed = new LinkedHashMap<>(); // name -> offset, length, crc, check
      for (Map.Entry<String, IndexSection.ToSave> e : sections.entrySet()) {
        SectionOutput out = new SectionOutput(channel, at);
        e.getValue().content().writeTo(out);
        out.flush();
        placed.put(e.getKey(), new long[] {at, out.length(), out.crc(), e.getValue().check().ordinal()});
        at = align(at + out.length());
      }
      long metaOffset = at;
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      DataOutputStream out = new DataOutputStream(bytes);
      writeIdentity(out, identity);
      VmaHeader h = index.header();
      out.writeInt(h.version());
      writeBytes(out, h.uuid());
      out.writeLong(h.ctime());
      out.writeInt(h.headerSize());
      out.writeInt(h.configs().size());
      for (ConfigBlob c : h.configs()) {
        out.writeUTF(c.name());
        writeBytes(out, c.data());
      }
      out.writeLong(index.extents());
      out.writeLong(index.streamLength());
      out.writeInt(index.devices().size());
      for (DeviceIndex d : index.devices()) {
        DeviceInfo info = d.info();
        out.writeInt(info.id());
        out.writeUTF(info.name());
        out.writeLong(info.size());
        long off = tableOffsets.get(info.id());
        out.writeLong(off);
        out.writeInt(tableCrc(channel, off, d.clusterCount()));
        DeviceStats s = d.stats();
        for (long v : new long[] {s.presentClusters(), s.missingClusters(), s.firstMissing(),
            s.duplicateClusters(), s.firstDuplicate(), s.beyondEndEntries(), s.firstBeyondEnd(),
            s.tailBitsPastEnd(), s.storedBlocks(), s.outOfOrder()}) {
          out.writeLong(v);
        }
        int[] groups = d.groupBlocks();
        out.writeInt(groups.length);
        for (int g : groups) {
          out.writeInt(g);
        }
      }
      out.writeInt(placed.size());
      for (Map.Entry<String, long[]> e : placed.entrySet()) {
        out.writeUTF(e.getKey());
        out.writeLong(e.getValue()[0]);
        out.writeLong(e.getValue()[1]);
        out.writeInt((int) e.getValue()[2]);
        out.writeByte((int) e.getValue()[3]);
      }
      out.flush();
      byte[] meta = bytes.toByteArray();
      writeFully(channel, ByteBuffer.wrap(meta), metaOffset);

      ByteBuffer fixed = ByteBuffer.allocate(FIXED_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
      fixed.put(OFF_MAGIC, MAGIC);
      fixed.putInt(OFF_VERSION, FORMAT_VERSION);
      fixed.putLong(OFF_META_OFFSET, metaOffset);
      fixed.putLong(OFF_META_LENGTH, meta.length);
      fixed.putInt(OFF_META_CRC, crc(ByteBuffer.wrap(meta)));
      fixed.putInt(OFF_HEADER_CRC, crc(fixed.duplicate().position(0).limit(OFF_HEADER_CRC)));
      writeFully(channel, fixed.clear(), 0);
      Map<String, IndexSection> saved = new LinkedHashMap<>();
      for (Map.Entry<String, long[]> e : placed.entrySet()) {
        saved.put(e.getKey(), IndexSection.map(channel, e.getValue()[0], e.getValue()[1]));
      }
      // No fsync: an index is a cache. A file torn by a crash fails its CRCs and is rebuilt, and
      // syncing a 1 TiB disk's 128 MiB table would double the time of a first mount.
      channel.close();
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      done = true;
      return saved;
    }

    /** Removes the temporary file unless {@link #commit} succeeded. */
    @Override
    public void close() throws IOException {
      if (!done) {
        channel.close();
        Files.deleteIfExists(tmp);
      }
    }
  }

  /**
   * Rewrites the archive identity of an index file in place, for an index that travelled inside
   * its archive (an embedded index in a seekable .vma.zst cannot know the identity of the file it
   * ends up in). The checksums are recomputed; the tables are untouched and still CRC-checked on
   * load.
   */
  public static void adopt(Path file, ArchiveIdentity identity) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer fixed = ByteBuffer.allocate(FIXED_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, fixed, 0);
      fixed.flip();
      long metaOffset = fixed.getLong(OFF_META_OFFSET);
      long metaLength = fixed.getLong(OFF_META_LENGTH);
      if (metaLength < IDENTITY_BYTES || metaLength > MAX_META_LENGTH || metaOffset < PAGE
          || metaOffset > ch.size() - metaLength) {
        throw new StaleIndexException("embedded index is corrupt");
      }
      ByteBuffer meta = ByteBuffer.allocate((int) metaLength);
      readFully(ch, meta, metaOffset);
      meta.flip();
      if (crc(meta.duplicate()) != fixed.getInt(OFF_META_CRC)) {
        throw new StaleIndexException("embedded index metadata checksum mismatch");
      }
      ByteArrayOutputStream id = new ByteArrayOutputStream();
      DataOutputStream out = new DataOutputStream(id);
      writeIdentity(out, identity);
      out.flush();
      if (id.size() != IDENTITY_BYTES) {
        throw new IllegalStateException("identity must serialize to " + IDENTITY_BYTES + " bytes");
      }
      meta.put(0, id.toByteArray());
      writeFully(ch, meta.duplicate().position(0), metaOffset);
      fixed.putInt(OFF_META_CRC, crc(meta.duplicate().position(0)));
      fixed.putInt(OFF_HEADER_CRC, crc(fixed.duplicate().position(0).limit(OFF_HEADER_CRC)));
      writeFully(ch, fixed.clear(), 0);
    }
  }

  /** size, mtime, fingerprint length and a SHA-256 fingerprint: the first bytes of the metadata. */
  private static final int IDENTITY_BYTES = 8 + 8 + 4 + 32;

  private static void writeIdentity(DataOutputStream out, ArchiveIdentity identity) throws IOException {
    out.writeLong(identity.size());
    out.writeLong(identity.mtimeMillis());
    writeBytes(out, identity.fingerprint());
  }

  /**
   * Loads and validates a saved index against the archive it should describe.
   *
   * @throws StaleIndexException if the file is foreign, stale, truncated or corrupt (rebuild it)
   */
  public static Loaded load(Path file, ArchiveIdentity expected, boolean ignoreMtime)
      throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long fileSize = ch.size();
      if (fileSize < PAGE) {
        throw new StaleIndexException("index file is truncated (" + fileSize + " bytes)");
      }
      ByteBuffer fixed = ByteBuffer.allocate(FIXED_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, fixed, 0);
      fixed.flip();
      byte[] magic = new byte[MAGIC.length];
      fixed.get(OFF_MAGIC, magic);
      if (!Arrays.equals(magic, MAGIC)) {
        throw new StaleIndexException("not a vmafs index file");
      }
      if (fixed.getInt(OFF_HEADER_CRC) != crc(fixed.duplicate().position(0).limit(OFF_HEADER_CRC))) {
        throw new StaleIndexException("index header checksum mismatch");
      }
      int version = fixed.getInt(OFF_VERSION);
      if (version != FORMAT_VERSION) {
        throw new StaleIndexException("index format version " + version + ", this vmafs writes " + FORMAT_VERSION);
      }
      long metaOffset = fixed.getLong(OFF_META_OFFSET);
      long metaLength = fixed.getLong(OFF_META_LENGTH);
      if (metaOffset < PAGE || metaLength < 0 || metaLength > MAX_META_LENGTH
          || metaOffset > fileSize - metaLength) {
        throw new StaleIndexException("index file is truncated or its metadata pointer is corrupt");
      }
      ByteBuffer meta = ByteBuffer.allocate((int) metaLength);
      readFully(ch, meta, metaOffset);
      meta.flip();
      if (crc(meta.duplicate()) != fixed.getInt(OFF_META_CRC)) {
        throw new StaleIndexException("index metadata checksum mismatch");
      }
      try {
        return parse(ch, new DataInputStream(new java.io.ByteArrayInputStream(meta.array())), metaOffset,
            expected, ignoreMtime);
      } catch (EOFException | IllegalArgumentException | java.io.UTFDataFormatException e) {
        throw new StaleIndexException("index metadata is corrupt: " + e.getMessage());
      }
    }
  }

  private static Loaded parse(FileChannel ch, DataInputStream in, long tablesLimit,
      ArchiveIdentity expected, boolean ignoreMtime) throws IOException {
    ArchiveIdentity saved = new ArchiveIdentity(in.readLong(), in.readLong(), readBytes(in, 64));
    String why = expected.mismatch(saved, ignoreMtime);
    if (why != null) {
      throw new StaleIndexException(why);
    }
    int version = in.readInt();
    byte[] uuid = readBytes(in, 16);
    long ctime = in.readLong();
    int headerSize = in.readInt();
    int configCount = count(in.readInt(), 256);
    List<ConfigBlob> configs = new ArrayList<>();
    for (int i = 0; i < configCount; i++) {
      configs.add(new ConfigBlob(in.readUTF(), readBytes(in, 65535)));
    }
    long extents = in.readLong();
    long streamLength = in.readLong();
    int deviceCount = count(in.readInt(), 254);
    List<DeviceInfo> infos = new ArrayList<>();
    List<DeviceIndex> devices = new ArrayList<>();
    for (int i = 0; i < deviceCount; i++) {
      DeviceInfo info = new DeviceInfo(in.readInt(), in.readUTF(), in.readLong());
      long off = in.readLong();
      int crc = in.readInt();
      long[] s = new long[10];
      for (int k = 0; k < s.length; k++) {
        s[k] = in.readLong();
      }
      long clusters = info.clusterCount();
      if (info.size() <= 0 || off < PAGE || off % PAGE != 0
          || ClusterTable.bytes(clusters) > tablesLimit - off) {
        throw new StaleIndexException("index table of " + info.name() + " lies outside the file");
      }
      int groups = in.readInt();
      if (groups != (int) ((clusters + DeviceIndex.GROUP_CLUSTERS - 1) >>> DeviceIndex.GROUP_SHIFT)) {
        throw new StaleIndexException("index summary of " + info.name() + " has the wrong length");
      }
      int[] groupBlocks = new int[groups];
      for (int g = 0; g < groups; g++) {
        groupBlocks[g] = in.readInt();
      }
      if (tableCrc(ch, off, clusters) != crc) {
        throw new StaleIndexException("index table of " + info.name() + " is corrupt (checksum mismatch)");
      }
      ClusterTable table = ClusterTable.map(ch, off, clusters, headerSize, FileChannel.MapMode.READ_ONLY);
      DeviceStats stats = new DeviceStats(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8], s[9]);
      infos.add(info);
      devices.add(new DeviceIndex(info, table, groupBlocks, stats));
    }
    int sectionCount = count(in.readInt(), 64);
    Map<String, IndexSection> sections = new LinkedHashMap<>();
    for (int i = 0; i < sectionCount; i++) {
      String name = in.readUTF();
      long off = in.readLong();
      long len = in.readLong();
      int crc = in.readInt();
      int check = in.readUnsignedByte();
      if (off < PAGE || len < 0 || off > tablesLimit - len) {
        throw new StaleIndexException("index section " + name + " lies outside the file");
      }
      if (check >= IndexSection.Check.values().length) {
        throw new StaleIndexException("index section " + name + " has an unknown check " + check);
      }
      // Sections their owner verifies piece by piece are not read here: a remount stays instant.
      if (IndexSection.Check.values()[check] == IndexSection.Check.ON_LOAD
          && rangeCrc(ch, off, len) != crc) {
        throw new StaleIndexException("index section " + name + " is corrupt (checksum mismatch)");
      }
      sections.put(name, IndexSection.map(ch, off, len));
    }
    VmaHeader header = new VmaHeader(version, uuid, ctime, headerSize, configs, infos);
    return new Loaded(new ExtentIndex(header, devices, extents, streamLength, null), saved, sections);
  }

  /** Streams a section into the file at a fixed position, counting and checksumming it. */
  private static final class SectionOutput extends java.io.OutputStream {
    private final FileChannel channel;
    private final ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
    private final CRC32C crc = new CRC32C();
    private long pos;
    private long length;

    SectionOutput(FileChannel channel, long pos) {
      this.channel = channel;
      this.pos = pos;
    }

    @Override
    public void write(int b) throws IOException {
      if (!buf.hasRemaining()) {
        flush();
      }
      buf.put((byte) b);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      java.util.Objects.checkFromIndexSize(off, len, b.length);
      while (len > 0) {
        if (!buf.hasRemaining()) {
          flush();
        }
        int n = Math.min(len, buf.remaining());
        buf.put(b, off, n);
        off += n;
        len -= n;
      }
    }

    @Override
    public void flush() throws IOException {
      buf.flip();
      crc.update(buf.duplicate());
      int n = buf.remaining();
      writeFully(channel, buf, pos);
      pos += n;
      length += n;
      buf.clear();
    }

    long length() {
      return length;
    }

    int crc() {
      return (int) crc.getValue();
    }
  }

  private static int count(int n, int max) throws StaleIndexException {
    if (n < 0 || n > max) {
      throw new StaleIndexException("index metadata is corrupt (count " + n + ")");
    }
    return n;
  }

  private static void writeBytes(DataOutputStream out, byte[] b) throws IOException {
    out.writeInt(b.length);
    out.write(b);
  }

  private static byte[] readBytes(DataInputStream in, int max) throws IOException {
    int n = in.readInt();
    if (n < 0 || n > max || n > in.available()) {
      throw new StaleIndexException("index metadata is corrupt (length " + n + ")");
    }
    return in.readNBytes(n);
  }

  /**
   * CRC32C of a table, read through the channel rather than the mapping: verifying a 1 TiB
   * disk's 128 MiB table then costs page cache, not the mount process's resident memory.
   */
  static int tableCrc(FileChannel ch, long offset, long entries) throws IOException {
    return rangeCrc(ch, offset, ClusterTable.bytes(entries));
  }

  private static int rangeCrc(FileChannel ch, long offset, long length) throws IOException {
    CRC32C crc = new CRC32C();
    ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
    long end = offset + length;
    for (long pos = offset; pos < end; ) {
      buf.clear().limit((int) Math.min(buf.capacity(), end - pos));
      readFully(ch, buf, pos);
      buf.flip();
      pos += buf.remaining();
      crc.update(buf);
    }
    return (int) crc.getValue();
  }

  private static int crc(ByteBuffer b) {
    CRC32C c = new CRC32C();
    c.update(b);
    return (int) c.getValue();
  }

  private static long align(long v) {
    return (v + PAGE - 1) / PAGE * PAGE;
  }

  private static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
    long p = pos;
    while (b.hasRemaining()) {
      int n = ch.read(b, p);
      if (n < 0) {
        throw new StaleIndexException("index file is truncated");
      }
      p += n;
    }
  }

  private static void writeFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
    long p = pos;
    while (b.hasRemaining()) {
      p += ch.write(b, p);
    }
  }
}
