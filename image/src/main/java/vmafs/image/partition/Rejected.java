package vmafs.image.partition;

/**
 * An entry of the table that is not exposed: out of the disk, overlapping another, over the
 * table itself, or past a limit. The sector fields are as the table has them (unsigned; for a
 * GPT entry {@code lastSector} is inclusive, for MBR it is first + count - 1).
 */
public record Rejected(int number, Partition.Kind kind, String type, long firstSector, long lastSector,
    Problem why) {}
