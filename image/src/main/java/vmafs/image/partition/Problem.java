package vmafs.image.partition;

/**
 * Something wrong with a partition table, and where: the field (e.g. "GPT entry 3 first LBA") and
 * its byte offset in the disk image.
 */
public record Problem(String field, long offset, String message) {
  @Override
  public String toString() {
    return field + " (disk offset " + offset + "): " + message;
  }
}
