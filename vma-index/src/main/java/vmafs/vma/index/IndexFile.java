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
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32C;
import vmafs.vma.ConfigBlob;
import vmafs.vma.DeviceInfo;
import vmafs.vma.VmaHeader;
import vmafs.vma.io.AtomicFile;
import vmafs.vma.io.FileTrust;

/**
 * The saved index: a versioned, checksummed file whose cluster tables are memory-mapped on load,
 * so a remount parses a few kilobytes, not 16 M entries.
 *
 * <pre>
 * page 0       fixed header: magic, version, where the metadata is, CRC32Cs
 * page 1 …     per device, the table pages the archive lists (1792 bytes each: 256 clusters of
 *              7 bytes, little-endian) in ascending page order, page-aligned
 * then         named sections (a compressed format's map, restart prefixes), streamed in,
 *              page-aligned; any size
 * last         metadata: archive identity, VMA header fields, per-device stats, the numbers and
 *              stored-block counts of the table pages, and offsets, lengths and CRC32Cs of the
 *              tables and sections
 * </pre>
 *
 * Only listed pages are stored, so the file grows with what the archive holds, not with the device
 * sizes it declares. The tables are built in memory and written with plain writes (a full disk is
 * an {@link IOException}, never a fault through a mapping), to an unguessable temporary name that is
 * renamed into place ({@link AtomicFile}), so readers only ever see complete files.
 */
public final class IndexFile {
  static final byte[] MAGIC = "VMAFSIDX".getBytes(StandardCharsets.US_ASCII);
  /**
   * Bumped whenever the layout or the meaning of a field changes; older files are rebuilt. 3: paged
   * tables. 4: sections say who checks them, and may exceed 2 GiB.
   */
  public static final int FORMAT_VERSION = 4;
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

  /**
   * Builds an index for a new index file. The file is created when the writer is (so that a
   * directory that cannot take it is known before the pass), filled by {@link #commit}.
   */
  public static final class Writer implements AutoCloseable {
    private final AtomicFile file;
    private final FileChannel channel;
    private final int headerSize;

    /** A writer for a file only its owner may read. */
    public Writer(Path target, VmaHeader header) throws IOException {
      this(target, header, FileTrust.privatePermissions());
    }

    /** @param permissions the new file's mode (e.g. {@link FileTrust#derivedPermissions}) */
    public Writer(Path target, VmaHeader header, Set<PosixFilePermission> permissions)
        throws IOException {
      this.headerSize = header.headerSize();
      this.file = AtomicFile.create(target, permissions);
      this.channel = file.channel();
    }

    /** Tables for {@link ExtentIndexBuilder}: in memory, written out by {@link #commit}. */
    public ExtentIndexBuilder.TableFactory tables() {
      return d -> ClusterTable.allocate(d.clusterCount(), headerSize);
    }

    /**
     * Writes the tables, sections, metadata and checksums and renames the file into place.
     *
     * @param sections named sections saved with the index, streamed into the file in this order
     * @return the sections as saved, mapped from the committed file (valid after it is closed)
     */
    public Map<String, IndexSection> commit(ExtentIndex index, ArchiveIdentity identity,
        Map<String, IndexSection.ToSave> sections) throws IOException {
      Map<String, IndexSection> saved = write(channel, index, identity, sections);
      // No fsync: an index is a cache. A file torn by a crash fails its CRCs and is rebuilt, and
      // syncing a 1 TiB disk's 112 MiB table would double the time of a first mount.
      file.commit();
      return saved;
    }

    /** Removes the temporary file unless {@link #commit} succeeded. */
    @Override
    public void close() throws IOException {
      file.close();
    }
  }

  /**
   * Writes a whole index file into {@code channel} (empty, open for writing), for callers that
   * place the file themselves (convert embeds it in its output).
   *
   * @param sections named sections saved with the index, streamed into the file in this order
   * @return the sections as written, mapped from {@code channel} (valid after it is closed)
   */
  public static Map<String, IndexSection> write(FileChannel channel, ExtentIndex index,
      ArchiveIdentity identity, Map<String, IndexSection.ToSave> sections) throws IOException {
    long at = PAGE;
    Map<Integer, long[]> tables = new LinkedHashMap<>(); // dev_id -> offset, crc
    for (DeviceIndex d : index.devices()) {
      int crc = d.table().writeTo(channel, at);
      tables.put(d.info().id(), new long[] {at, crc});
      at = align(at + d.table().storedBytes());
    }
    Map<String, long[]> placed = new LinkedHashMap<>(); // name -> offset, length, crc, check
    for (Map.Entry<String, IndexSection.ToSave> e : sections.entrySet()) {
      SectionOutput out = new SectionOutput(channel, at);
      e.getValue().content().writeTo(out);
      out.flush();
      placed.put(e.getKey(),
          new long[] {at, out.length(), out.crc(), e.getValue().check().ordinal()});
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
      long[] table = tables.get(info.id());
      out.writeLong(table[0]);
      out.writeInt((int) table[1]);
      DeviceStats s = d.stats();
      for (long v : new long[] {s.presentClusters(), s.missingClusters(), s.firstMissing(),
          s.duplicateClusters(), s.firstDuplicate(), s.beyondEndEntries(), s.firstBeyondEnd(),
          s.tailBitsPastEnd(), s.storedBlocks(), s.outOfOrder()}) {
        out.writeLong(v);
      }
      int[] pages = d.table().sealed();
      int[] blocks = d.table().pageBlocksInOrder();
      out.writeInt(pages.length);
      for (int i = 0; i < pages.length; i++) {
        out.writeInt(pages[i]);
        out.writeInt(blocks[i]);
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
    Map<String, IndexSection> written = new LinkedHashMap<>();
    for (Map.Entry<String, long[]> e : placed.entrySet()) {
      long[] p = e.getValue();
      written.put(e.getKey(),
          IndexSection.map(channel, p[0], p[1], IndexSection.Check.values()[(int) p[3]]));
    }
    return written;
  }

  /**
   * Rewrites the archive identity of an index file in place, for an index that travelled inside
   * its archive (an embedded index in a seekable .vma.zst cannot know the identity of the file it
   * ends up in). The checksums are recomputed; the tables are untouched and still CRC-checked on
   * load.
   */
  public static void adopt(FileChannel ch, ArchiveIdentity identity) throws IOException {
    ByteBuffer fixed = ByteBuffer.allocate(FIXED_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
    readFully(ch, fixed, 0);
    fixed.flip();
    long metaOffset = fixed.getLong(OFF_META_OFFSET);
    ByteBuffer meta = metadata(ch, fixed);
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

  /** The metadata the fixed header points at, bounds- and CRC-checked. */
  private static ByteBuffer metadata(FileChannel ch, ByteBuffer fixed) throws IOException {
    long metaOffset = fixed.getLong(OFF_META_OFFSET);
    long metaLength = fixed.getLong(OFF_META_LENGTH);
    if (metaOffset < PAGE || metaLength < IDENTITY_BYTES || metaLength > MAX_META_LENGTH
        || metaOffset > ch.size() - metaLength) {
      throw new StaleIndexException("index file is truncated or its metadata pointer is corrupt");
    }
    ByteBuffer meta = ByteBuffer.allocate((int) metaLength);
    readFully(ch, meta, metaOffset);
    meta.flip();
    if (crc(meta.duplicate()) != fixed.getInt(OFF_META_CRC)) {
      throw new StaleIndexException("index metadata checksum mismatch");
    }
    return meta;
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
    // Never a FIFO (opening one would hang) or a link; whether its owner may be believed is the
    // caller's question (FileTrust).
    if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
      throw Files.exists(file, LinkOption.NOFOLLOW_LINKS)
          ? new StaleIndexException(file + " is not a regular file")
          : new java.nio.file.NoSuchFileException(file.toString());
    }
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
      return load(ch, expected, ignoreMtime);
    }
  }

  /**
   * As {@link #load(Path, ArchiveIdentity, boolean)}, from an open file (e.g. one just written);
   * the mappings stay valid after the channel is closed.
   */
  public static Loaded load(FileChannel ch, ArchiveIdentity expected, boolean ignoreMtime)
      throws IOException {
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
    ByteBuffer meta = metadata(ch, fixed);
    try {
      return parse(ch, new DataInputStream(new java.io.ByteArrayInputStream(meta.array())), metaOffset,
          expected, ignoreMtime);
    } catch (EOFException | IllegalArgumentException | java.io.UTFDataFormatException e) {
      throw new StaleIndexException("index metadata is corrupt: " + e.getMessage());
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
      if (info.size() <= 0 || off < PAGE || off % PAGE != 0 || off > tablesLimit) {
        throw new StaleIndexException("index table of " + info.name() + " lies outside the file");
      }
      int pageCount = count(in.readInt(), ClusterTable.pagesFor(clusters));
      if ((long) pageCount * ClusterTable.PAGE_BYTES > tablesLimit - off) {
        throw new StaleIndexException("index table of " + info.name() + " lies outside the file");
      }
      int[] pages = new int[pageCount];
      int[] pageBlocks = new int[pageCount];
      long blocks = 0;
      for (int p = 0; p < pageCount; p++) {
        pages[p] = in.readInt();
        pageBlocks[p] = in.readInt();
        if (pageBlocks[p] < 0 || pageBlocks[p] > ClusterTable.FULL_PAGE_BLOCKS) {
          throw new StaleIndexException("index summary of " + info.name() + " is corrupt");
        }
        blocks += pageBlocks[p];
      }
      if (blocks != s[8]) {
        throw new StaleIndexException("index summary of " + info.name()
            + " does not add up to its stored blocks");
      }
      if (rangeCrc(ch, off, (long) pageCount * ClusterTable.PAGE_BYTES) != crc) {
        throw new StaleIndexException("index table of " + info.name() + " is corrupt (checksum mismatch)");
      }
      ClusterTable table = ClusterTable.map(ch, off, clusters, headerSize, pages, pageBlocks);
      DeviceStats stats = new DeviceStats(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8], s[9]);
      infos.add(info);
      devices.add(new DeviceIndex(info, table, stats));
    }
    int sectionCount = count(in.readInt(), 64);
    Map<String, IndexSection> sections = new LinkedHashMap<>();
    for (int i = 0; i < sectionCount; i++) {
      String name = in.readUTF();
      long off = in.readLong();
      long len = in.readLong();
      int crc = in.readInt();
      int checkCode = in.readUnsignedByte();
      if (off < PAGE || len < 0 || off > tablesLimit - len) {
        throw new StaleIndexException("index section " + name + " lies outside the file");
      }
      if (checkCode >= IndexSection.Check.values().length) {
        throw new StaleIndexException("index section " + name + " has an unknown check " + checkCode);
      }
      IndexSection.Check check = IndexSection.Check.values()[checkCode];
      // Sections their owner verifies piece by piece are not read here: a remount stays instant.
      if (check == IndexSection.Check.ON_LOAD && rangeCrc(ch, off, len) != crc) {
        throw new StaleIndexException("index section " + name + " is corrupt (checksum mismatch)");
      }
      if (sections.put(name, IndexSection.map(ch, off, len, check)) != null) {
        throw new StaleIndexException("index section " + name + " is listed twice");
      }
    }
    VmaHeader header = new VmaHeader(version, uuid, ctime, headerSize, configs, infos);
    return new Loaded(new ExtentIndex(header, devices, extents, streamLength, null), saved, sections);
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
   * CRC32C of a file range, read through the channel rather than a mapping: verifying a 1 TiB
   * disk's 112 MiB table then costs page cache, not the mount process's resident memory.
   */
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

  /** Streams a section into the file at {@code pos}, computing its length and CRC-32C. */
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
}
