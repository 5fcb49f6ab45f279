package vmafs.image.partition;

/**
 * Every offset, size, magic and limit of the two partition-table formats, in one place. All
 * multi-byte fields are little-endian. The layouts are described in docs/partitions.md: the MBR
 * and its extended boot records (EBRs) from the de-facto IBM PC format, GPT from the UEFI
 * specification 2.10, section 5.
 */
final class PartitionFormat {
  private PartitionFormat() {}

  /** The sector size MBR tables are read with; GPT is also looked for with {@link #LARGE_SECTOR}. */
  static final int SECTOR = 512;
  /** 4Kn disks: GPT LBAs count 4096-byte sectors. (MBR tables do not say, and are read as 512.) */
  static final int LARGE_SECTOR = 4096;

  // ---- MBR and EBR (sector 0 of the disk, and the first sector of every logical partition's EBR)

  /** uint32: the disk signature (the "label-id" of sfdisk; PARTUUIDs are {@code <sig>-<nn>}). */
  static final int MBR_DISK_SIGNATURE = 440;
  static final int MBR_TABLE = 446;
  static final int MBR_ENTRY_SIZE = 16;
  static final int MBR_ENTRIES = 4;
  static final int MBR_BOOT_SIGNATURE = 510;
  static final int BOOT_SIGNATURE_0 = 0x55;
  static final int BOOT_SIGNATURE_1 = 0xAA;

  /** uint8 in an entry: 0x80 bootable, 0x00 not; anything else means sector 0 is no MBR. */
  static final int ENTRY_STATUS = 0;
  static final int ENTRY_TYPE = 4;
  /** uint32: first sector, from the disk start (MBR), from the EBR (logical) or from the extended partition (next EBR). */
  static final int ENTRY_FIRST_LBA = 8;
  static final int ENTRY_SECTORS = 12;

  static final int STATUS_BOOTABLE = 0x80;
  static final int TYPE_EMPTY = 0x00;
  static final int TYPE_EXTENDED_CHS = 0x05;
  static final int TYPE_EXTENDED_LBA = 0x0F;
  static final int TYPE_EXTENDED_LINUX = 0x85;
  /** The protective MBR's one entry: the disk holds a GPT. */
  static final int TYPE_GPT_PROTECTIVE = 0xEE;

  /** Logical partitions are numbered from 5 (as Linux, fdisk and sfdisk number them). */
  static final int FIRST_LOGICAL_NUMBER = 5;

  // ---- GPT header (at LBA 1, its backup normally at the last LBA)

  static final long GPT_SIGNATURE = 0x5452415020494645L; // "EFI PART" little-endian
  static final int GPT_SIGNATURE_OFFSET = 0;
  static final int GPT_HEADER_SIZE = 12;
  static final int GPT_HEADER_CRC = 16;
  static final int GPT_MY_LBA = 24;
  static final int GPT_ALTERNATE_LBA = 32;
  static final int GPT_FIRST_USABLE_LBA = 40;
  static final int GPT_LAST_USABLE_LBA = 48;
  static final int GPT_DISK_GUID = 56;
  static final int GPT_ENTRIES_LBA = 72;
  static final int GPT_ENTRY_COUNT = 80;
  static final int GPT_ENTRY_SIZE = 84;
  static final int GPT_ENTRIES_CRC = 88;
  /** The header's defined fields end here; a larger HeaderSize covers reserved zeros. */
  static final int GPT_MIN_HEADER_SIZE = 92;

  // ---- GPT partition entry

  static final int ENTRY_TYPE_GUID = 0;
  static final int ENTRY_UNIQUE_GUID = 16;
  static final int ENTRY_GPT_FIRST_LBA = 32;
  static final int ENTRY_GPT_LAST_LBA = 40;
  static final int ENTRY_ATTRIBUTES = 48;
  static final int ENTRY_NAME = 56;
  /** The name: 36 UTF-16LE code units, NUL-padded. */
  static final int ENTRY_NAME_BYTES = 72;
  /** The spec's minimum entry size; an entry is 128 × 2^n bytes. */
  static final int MIN_GPT_ENTRY_SIZE = 128;
  /** Larger entries are legal but unseen in practice; beyond this they are refused. */
  static final int MAX_GPT_ENTRY_SIZE = 4096;
  /** Attribute bit 2: "legacy BIOS bootable". */
  static final long ATTRIBUTE_LEGACY_BIOS_BOOTABLE = 1L << 2;

  // ---- limits on what untrusted input may make the reader do

  /**
   * The most bytes of GPT entries read for one header. The usual array is 128 × 128 = 16 KiB;
   * 1 MiB allows 8192 entries of 128 bytes.
   */
  static final int MAX_GPT_ENTRY_ARRAY_BYTES = 1 << 20;
  /**
   * The most partitions kept per disk, valid or not: Linux's DISK_MAX_PARTS, so no disk has more
   * partition files here than the kernel would make devices.
   */
  static final int MAX_PARTITIONS = 256;
  /** The most EBRs followed in an extended partition's chain. */
  static final int MAX_EBRS = MAX_PARTITIONS;
  /** The most problems listed per disk; the rest are counted. */
  static final int MAX_PROBLEMS = 64;
}
