package vmafs.cli;

import static vmafs.vma.VmaFormat.DEV_INFO_SIZE;
import static vmafs.vma.VmaFormat.DEV_OFF_NAME_PTR;
import static vmafs.vma.VmaFormat.OFF_CONFIG_NAMES;
import static vmafs.vma.VmaFormat.OFF_DEV_INFO;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import vmafs.vma.ConfigBlob;
import vmafs.vma.DeviceInfo;
import vmafs.vma.MalformedArchiveException;
import vmafs.vma.VmaHeader;
import vmafs.vma.write.VmaWriter;

/**
 * The directory an extract writes into. Names from the archive are checked before they touch the
 * file system (a crafted name is an error, never a path outside the target); images are written to
 * {@code tmp-<name>} and renamed only when the whole extract succeeded; on failure everything
 * this extract created is removed again.
 */
final class ExtractTarget implements AutoCloseable {
  private final Path dir;
  private final boolean createdDir;
  private final List<Path> created = new ArrayList<>();
  private final Map<Path, Path> renames = new LinkedHashMap<>();
  private final List<FileChannel> open = new ArrayList<>();
  private boolean committed;

  private ExtractTarget(Path dir, boolean createdDir) {
    this.dir = dir;
    this.createdDir = createdDir;
  }

  static ExtractTarget create(Path dir, boolean force) throws IOException {
    if (Files.exists(dir)) {
      if (!force) {
        throw new CliException(ExitCodes.ENVIRONMENT,
            dir + ": target directory already exists (use --force to write into it)");
      }
      if (!Files.isDirectory(dir)) {
        throw new CliException(ExitCodes.ENVIRONMENT, dir + ": exists and is not a directory");
      }
      return new ExtractTarget(dir, false);
    }
    Files.createDirectories(dir);
    return new ExtractTarget(dir, true);
  }

  Path dir() {
    return dir;
  }

  /** Writes config {@code i} of the header under its own (checked) name. */
  void writeConfig(VmaHeader h, int i, boolean force) throws IOException {
    ConfigBlob c = h.configs().get(i);
    long field = h.configNameFieldOffset(i);
    String what = "config_names[" + (field - OFF_CONFIG_NAMES) / 4 + "]";
    Path p = resolve(c.name(), what, field);
    if (Files.exists(p) && !force) {
      throw new FileAlreadyExistsException(p.toString());
    }
    Path tmp = resolve("tmp-" + c.name(), what, field);
    Files.write(tmp, c.data());
    created.add(tmp);
    renames.put(tmp, p);
  }

  /** Creates the sparse image file for a device: its full size, no blocks allocated yet. */
  FileChannel openImage(DeviceInfo d, long size, boolean force) throws IOException {
    checkDeviceName(d);
    Path p = resolve(d.imageFileName(), deviceField(d), deviceFieldOffset(d));
    if (Files.exists(p) && !force) {
      throw new FileAlreadyExistsException(p.toString());
    }
    Path tmp = resolve("tmp-" + d.imageFileName(), deviceField(d), deviceFieldOffset(d));
    Files.deleteIfExists(tmp);
    // RandomAccessFile.setLength is ftruncate: the file gets its full size as one hole, and only
    // data blocks are written afterwards (FileChannel can only shrink a file).
    RandomAccessFile raf = new RandomAccessFile(tmp.toFile(), "rw");
    created.add(tmp);
    FileChannel ch = raf.getChannel();
    open.add(ch);
    raf.setLength(size);
    renames.put(tmp, p);
    return ch;
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
    return OFF_DEV_INFO + (long) d.id() * DEV_INFO_SIZE + DEV_OFF_NAME_PTR;
  }

  private Path resolve(String name, String what, long offset) throws MalformedArchiveException {
    try {
      VmaWriter.NameRules.checkConfigName(name);
    } catch (IllegalArgumentException e) {
      throw new MalformedArchiveException(what, offset,
          "'" + name + "' is not a safe file name (it would leave the target directory)");
    }
    Path p = dir.resolve(name).normalize();
    if (!p.getParent().equals(dir.normalize())) {
      throw new MalformedArchiveException(what, offset, "'" + name + "' would leave the target directory");
    }
    return p;
  }

  /** Moves every file to its final name. */
  void commit() throws IOException {
    for (FileChannel ch : open) {
      ch.close();
    }
    for (Map.Entry<Path, Path> e : renames.entrySet()) {
      Files.move(e.getKey(), e.getValue(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
    committed = true;
  }

  @Override
  public void close() throws IOException {
    for (FileChannel ch : open) {
      ch.close();
    }
    if (committed) {
      return;
    }
    for (Path p : created) {
      Files.deleteIfExists(p);
    }
    if (createdDir) {
      try {
        Files.deleteIfExists(dir);
      } catch (java.nio.file.DirectoryNotEmptyException e) {
        // Someone else put files there meanwhile; leave it.
      }
    }
  }
}
