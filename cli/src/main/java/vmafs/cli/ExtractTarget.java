package vmafs.cli;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import vmafs.vma.ConfigBlob;
import vmafs.vma.DeviceInfo;
import vmafs.vma.MalformedArchiveException;
import vmafs.vma.VmaFormat;
import vmafs.vma.VmaHeader;
import vmafs.vma.io.AtomicFile;
import vmafs.vma.write.VmaWriter;

/**
 * The directory an extract writes into. Names from the archive are checked before they touch the
 * file system (a crafted name is an error, never a path outside the target, and two files of one
 * name are an error before anything is written); every file is created exclusively under a private
 * temporary name ({@link AtomicFile}: a link planted in the target is never written through) and
 * renamed only when the whole extract succeeded; on failure everything this extract created is
 * removed again.
 */
final class ExtractTarget implements AutoCloseable {
  private final Path dir;
  private final boolean createdDir;
  private final Set<PosixFilePermission> permissions;
  private final List<AtomicFile> files = new ArrayList<>();
  private boolean committed;

  private ExtractTarget(Path dir, boolean createdDir, Set<PosixFilePermission> permissions) {
    this.dir = dir;
    this.createdDir = createdDir;
    this.permissions = permissions;
  }

  /**
   * @param permissions the mode of every file written: the archive's or stricter, since they hold
   *     its configs and data
   */
  static ExtractTarget create(Path target, boolean force, Set<PosixFilePermission> permissions)
      throws IOException {
    Path dir = target.toAbsolutePath().normalize();
    if (Files.exists(dir)) {
      if (!force) {
        throw new CliException(ExitCodes.ENVIRONMENT,
            target + ": target directory already exists (use --force to write into it)");
      }
      if (!Files.isDirectory(dir)) {
        throw new CliException(ExitCodes.ENVIRONMENT, target + ": exists and is not a directory");
      }
      return new ExtractTarget(dir, false, permissions);
    }
    Files.createDirectories(dir);
    return new ExtractTarget(dir, true, permissions);
  }

  Path dir() {
    return dir;
  }

  /**
   * Checks that the files an extract of {@code devices} would write have safe, distinct names:
   * two configs of one name, two devices of one name, or a config named like a device's image
   * would otherwise overwrite each other. Reported at the second name's field.
   */
  static void checkNames(VmaHeader h, Collection<DeviceInfo> devices) throws MalformedArchiveException {
    Map<String, String> seen = new HashMap<>();
    for (int i = 0; i < h.configs().size(); i++) {
      String name = h.configs().get(i).name();
      long field = h.configNameFieldOffset(i);
      String what = configField(field);
      checkSafe(name, what, field);
      String before = seen.putIfAbsent(name, what);
      if (before != null) {
        throw new MalformedArchiveException(what, field, "'" + name + "' is also the name of "
            + before + ": two files of one name");
      }
    }
    for (DeviceInfo d : devices) {
      checkDeviceName(d);
      String before = seen.putIfAbsent(d.imageFileName(), deviceField(d));
      if (before != null) {
        throw new MalformedArchiveException(deviceField(d), deviceFieldOffset(d), "device '"
            + d.name() + "' would be extracted as " + d.imageFileName() + ", which is also the name of "
            + before + ": two files of one name");
      }
    }
  }

  private static String configField(long field) {
    return VmaFormat.configNameField(field);
  }

  /** Writes config {@code i} of the header under its own (checked) name. */
  void writeConfig(VmaHeader h, int i, boolean force) throws IOException {
    ConfigBlob c = h.configs().get(i);
    long field = h.configNameFieldOffset(i);
    Path p = resolve(c.name(), configField(field), field);
    if (Files.exists(p, LinkOption.NOFOLLOW_LINKS) && !force) {
      throw new FileAlreadyExistsException(p.toString());
    }
    AtomicFile f = newFile(p);
    ByteBuffer data = ByteBuffer.wrap(c.data());
    while (data.hasRemaining()) {
      f.channel().write(data);
    }
  }

  /** Creates the sparse image file for a device: its full size, no blocks allocated yet. */
  FileChannel openImage(DeviceInfo d, long size, boolean force) throws IOException {
    checkDeviceName(d);
    Path p = resolve(d.imageFileName(), deviceField(d), deviceFieldOffset(d));
    if (Files.exists(p, LinkOption.NOFOLLOW_LINKS) && !force) {
      throw new FileAlreadyExistsException(p.toString());
    }
    AtomicFile f = newFile(p);
    f.extendTo(size); // one hole; only data blocks are written afterwards
    return f.channel();
  }

  private AtomicFile newFile(Path p) throws IOException {
    AtomicFile f = AtomicFile.create(p, permissions);
    files.add(f);
    return f;
  }

  static void checkDeviceName(DeviceInfo d) throws MalformedArchiveException {
    try {
      VmaWriter.NameRules.checkDeviceName(d.name());
    } catch (IllegalArgumentException e) {
      throw new MalformedArchiveException(deviceField(d), deviceFieldOffset(d),
          "device name '" + d.name() + "' is not a safe file name");
    }
  }

  // Names are reported at their pointer field, as the header parser reports a bad name blob.
  private static String deviceField(DeviceInfo d) {
    return "dev_info[" + d.id() + "].devname_ptr";
  }

  private static long deviceFieldOffset(DeviceInfo d) {
    return VmaFormat.devNamePtrOffset(d.id());
  }

  private static void checkSafe(String name, String what, long offset) throws MalformedArchiveException {
    try {
      VmaWriter.NameRules.checkConfigName(name);
    } catch (IllegalArgumentException e) {
      throw new MalformedArchiveException(what, offset,
          "'" + name + "' is not a safe file name (it would leave the target directory)");
    }
  }

  private Path resolve(String name, String what, long offset) throws MalformedArchiveException {
    checkSafe(name, what, offset);
    Path p = dir.resolve(name).normalize();
    if (!dir.equals(p.getParent())) {
      throw new MalformedArchiveException(what, offset, "'" + name + "' would leave the target directory");
    }
    return p;
  }

  /** Moves every file to its final name. */
  void commit() throws IOException {
    for (AtomicFile f : files) {
      f.commit();
    }
    committed = true;
  }

  @Override
  public void close() throws IOException {
    IOException failure = null;
    for (AtomicFile f : files) {
      try {
        f.close();
      } catch (IOException e) {
        failure = failure == null ? e : failure;
      }
    }
    if (!committed && createdDir) {
      try {
        Files.deleteIfExists(dir);
      } catch (java.nio.file.DirectoryNotEmptyException e) {
        // Someone else put files there meanwhile; leave it.
      }
    }
    if (failure != null) {
      throw failure;
    }
  }
}
