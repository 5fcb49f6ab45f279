package vmafs.vma;

/** A configuration file stored in the header, e.g. {@code qemu-server.conf}. */
public record ConfigBlob(String name, byte[] data) {
  public ConfigBlob {
    data = data.clone();
  }

  @Override
  public byte[] data() {
    return data.clone();
  }

  public int size() {
    return data.length;
  }
}
