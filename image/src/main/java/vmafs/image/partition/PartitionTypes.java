package vmafs.image.partition;

import java.util.Map;

/**
 * Human names of the partition types one meets in VM disks, as util-linux's fdisk names them
 * (libfdisk's dos and gpt type tables). Anything else is "unknown"; the type itself is always
 * reported too.
 */
final class PartitionTypes {
  private PartitionTypes() {}

  static final String UNKNOWN = "unknown";

  static final Map<Integer, String> MBR_NAMES = Map.ofEntries(
      Map.entry(0x01, "FAT12"),
      Map.entry(0x04, "FAT16 <32M"),
      Map.entry(0x05, "Extended"),
      Map.entry(0x06, "FAT16"),
      Map.entry(0x07, "HPFS/NTFS/exFAT"),
      Map.entry(0x0b, "W95 FAT32"),
      Map.entry(0x0c, "W95 FAT32 (LBA)"),
      Map.entry(0x0e, "W95 FAT16 (LBA)"),
      Map.entry(0x0f, "W95 Ext'd (LBA)"),
      Map.entry(0x11, "Hidden FAT12"),
      Map.entry(0x12, "Compaq diagnostics"),
      Map.entry(0x14, "Hidden FAT16 <32M"),
      Map.entry(0x16, "Hidden FAT16"),
      Map.entry(0x17, "Hidden HPFS/NTFS"),
      Map.entry(0x1b, "Hidden W95 FAT32"),
      Map.entry(0x1c, "Hidden W95 FAT32 (LBA)"),
      Map.entry(0x1e, "Hidden W95 FAT16 (LBA)"),
      Map.entry(0x27, "Hidden NTFS WinRE"),
      Map.entry(0x42, "SFS"),
      Map.entry(0x82, "Linux swap / Solaris"),
      Map.entry(0x83, "Linux"),
      Map.entry(0x85, "Linux extended"),
      Map.entry(0x8e, "Linux LVM"),
      Map.entry(0xa5, "FreeBSD"),
      Map.entry(0xa6, "OpenBSD"),
      Map.entry(0xa8, "Darwin UFS"),
      Map.entry(0xa9, "NetBSD"),
      Map.entry(0xaf, "HFS / HFS+"),
      Map.entry(0xbf, "Solaris"),
      Map.entry(0xde, "Dell Utility"),
      Map.entry(0xee, "GPT"),
      Map.entry(0xef, "EFI (FAT-12/16/32)"),
      Map.entry(0xfb, "VMware VMFS"),
      Map.entry(0xfd, "Linux raid autodetect"));

  static final Map<String, String> GPT_NAMES = Map.ofEntries(
      Map.entry("C12A7328-F81F-11D2-BA4B-00A0C93EC93B", "EFI System"),
      Map.entry("024DEE41-33E7-11D3-9D69-0008C781F39F", "MBR partition scheme"),
      Map.entry("21686148-6449-6E6F-744E-656564454649", "BIOS boot"),
      Map.entry("0FC63DAF-8483-4772-8E79-3D69D8477DE4", "Linux filesystem"),
      Map.entry("0657FD6D-A4AB-43C4-84E5-0933C84B4F4F", "Linux swap"),
      Map.entry("E6D6D379-F507-44C2-A23C-238F2A3DF928", "Linux LVM"),
      Map.entry("A19D880F-05FC-4D3B-A006-743F0F84911E", "Linux RAID"),
      Map.entry("933AC7E1-2EB4-4F13-B844-0E14E2AEF915", "Linux home"),
      Map.entry("3B8F8425-20E0-4F3B-907F-1A25A76F98E8", "Linux server data"),
      Map.entry("44479540-F297-41B2-9AF7-D131D5F0458A", "Linux root (x86)"),
      Map.entry("4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709", "Linux root (x86-64)"),
      Map.entry("B921B045-1DF0-41C3-AF44-4C6F280D3FAE", "Linux root (ARM-64)"),
      Map.entry("BC13C2FF-59E6-4262-A352-B275FD6F7172", "Linux extended boot"),
      Map.entry("8DA63339-0007-60C0-C436-083AC8230908", "Linux reserved"),
      Map.entry("EBD0A0A2-B9E5-4433-87C0-68B6B72699C7", "Microsoft basic data"),
      Map.entry("E3C9E316-0B5C-4DB8-817D-F92DF00215AE", "Microsoft reserved"),
      Map.entry("DE94BBA4-06D1-4D40-A16A-BFD50179D6AC", "Windows recovery environment"),
      Map.entry("5808C8AA-7E8F-42E0-85D2-E1E90434CFB3", "Microsoft LDM metadata"),
      Map.entry("AF9B60A0-1431-4F62-BC68-3311714A69AD", "Microsoft LDM data"),
      Map.entry("E75CAF8F-F680-4CEE-AFA3-B001E56EFC2D", "Microsoft Storage Spaces"),
      Map.entry("6A898CC3-1DD2-11B2-99A6-080020736631", "Solaris /usr & Apple ZFS"),
      Map.entry("6A85CF4D-1DD2-11B2-99A6-080020736631", "Solaris root"),
      Map.entry("83BD6B9D-7F41-11DC-BE0B-001560B84F0F", "FreeBSD boot"),
      Map.entry("516E7CB4-6ECF-11D6-8FF8-00022D09712B", "FreeBSD data"),
      Map.entry("516E7CB5-6ECF-11D6-8FF8-00022D09712B", "FreeBSD swap"),
      Map.entry("516E7CB6-6ECF-11D6-8FF8-00022D09712B", "FreeBSD UFS"),
      Map.entry("516E7CBA-6ECF-11D6-8FF8-00022D09712B", "FreeBSD ZFS"),
      Map.entry("48465300-0000-11AA-AA11-00306543ECAC", "Apple HFS/HFS+"),
      Map.entry("7C3457EF-0000-11AA-AA11-00306543ECAC", "Apple APFS"),
      Map.entry("4FBD7E29-9D25-41B8-AFD0-062C0CEFF05D", "Ceph OSD"));

  static String mbrName(int type) {
    return MBR_NAMES.getOrDefault(type, UNKNOWN);
  }

  static String gptName(String typeGuid) {
    return GPT_NAMES.getOrDefault(typeGuid, UNKNOWN);
  }

  static boolean isExtended(int mbrType) {
    return mbrType == PartitionFormat.TYPE_EXTENDED_CHS || mbrType == PartitionFormat.TYPE_EXTENDED_LBA
        || mbrType == PartitionFormat.TYPE_EXTENDED_LINUX;
  }
}
