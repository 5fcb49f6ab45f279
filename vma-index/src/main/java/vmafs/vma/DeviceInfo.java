package vmafs.vma;

/**
 * One drive of the archive.
 *
 * @param id the dev_id used in blockinfo entries (1–254)
 * @param name e.g. {@code drive-scsi0}
 * @param size exact size in bytes; need not be a multiple of 64 KiB, 4 KiB or even 512
 */
public record DeviceInfo(int id, String name, long size) {

  public long clusterCount() {
    return VmaFormat.clusterCount(size);
  }

  public boolean isVmstate() {
    return VmaFormat.VMSTATE_DEVICE.equals(name);
  }

  /** The file name Proxmox's {@code vma extract} gives the image: {@code disk-<name>.raw}. */
  public String imageFileName() {
    return isVmstate() ? "vmstate.bin" : "disk-" + name + ".raw";
  }
}
