package vmafs.cli;

import static vmafs.vma.VmaFormat.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import vmafs.archive.Archive;
import vmafs.cli.log.Printable;
import vmafs.vma.ConfigBlob;
import vmafs.vma.DeviceInfo;
import vmafs.vma.ExtentHeader;
import vmafs.vma.VmaHeader;
import vmafs.vma.VmaStreamReader;
import vmafs.vma.image.DeviceImage;
import vmafs.vma.index.DeviceIndex;
import vmafs.vma.index.ExtentIndex;
import vmafs.vma.index.ExtentIndexBuilder;
import vmafs.vma.io.FileTrust;

@Command(
    name = "extract",
    mixinStandardHelpOptions = true,
    header = "Extract the configs and sparse disk images of an archive into a directory.",
    description = {
      "Each config is written under its own name and each drive as disk-<devname>.raw, the names"
          + " Proxmox's 'vma extract' gives. Images are sparse: zero blocks become holes, not"
          + " written zeros. Files appear under their final names only when everything succeeded;"
          + " an incomplete archive is refused before anything is written (unless --partial)."
    },
    footer = {
      "  vmafs extract vzdump-qemu-100-2026_11_22-12_00_00.vma.zst /restore/vm100",
      "  vmafs extract -d drive-scsi0 vzdump-qemu-100-2026_11_22-12_00_00.vma.zst /restore/vm100",
      "  zstd -dc vzdump-qemu-100-2026_11_22-12_00_00.vma.zst | vmafs extract - /restore/vm100"
    })
final class ExtractCommand implements Callable<Integer> {
  private static final int COPY_BUFFER = 4 << 20;

  @Mixin CommonOptions common;

  @Mixin IndexOptions indexOptions = IndexOptions.readOnly();

  @Mixin RemoteArchiveOptions remote;

  @Parameters(index = "0", paramLabel = "ARCHIVE", description = "The archive (a file, s3://BUCKET/KEY or an http(s):// URL), or - for an uncompressed VMA on stdin.")
  String archive;

  @Parameters(index = "1", paramLabel = "TARGETDIR", description = "Created; must not exist unless --force.")
  Path target;

  @Option(names = {"-d", "--drives"}, split = ",", paramLabel = "DEVNAME",
      description = "Only these devices (comma-separated, e.g. drive-scsi0). Configs are always extracted.")
  List<String> drives;

  @Option(names = "--force", description = "Write into an existing TARGETDIR, replacing files of the same names.")
  boolean force;

  @Option(names = "--partial", description = "Extract even if clusters are missing (they read as zeros) or duplicated (the last copy wins).")
  boolean partial;

  @Option(names = "--json", description = "Print what was written as JSON (docs/json.md) instead of the paths.")
  boolean json;

  private final long started = System.nanoTime();
  /** The archive as stored, once opened (null for stdin). */
  private vmafs.vma.io.StoredBytes stored;

  @Override
  public Integer call() throws Exception {
    // A compressed archive must be decoded once anyway: write the images during that pass
    // instead of decoding it for an index (and perhaps a spill file) and then copying.
    if (ArchiveArgs.isStdin(archive)) {
      try (ProgressBar bar = new ProgressBar("extracting", -1)) {
        return fromStream(ArchiveArgs.stream(archive, remote, bar), bar);
      }
    }
    vmafs.vma.io.StoredBytes in = remote.open(archive);
    stored = in;
    if (ArchiveArgs.isCompressed(in)) {
      try (in; ProgressBar bar = new ProgressBar("extracting", in.size())) {
        return fromStream(ArchiveArgs.stream(in, bar), bar);
      }
    }
    try (Archive a = ArchiveArgs.open(in, indexOptions)) {
      return fromArchive(a);
    }
  }

  private Set<String> selected(VmaHeader h) {
    Set<String> names = h.devices().stream().map(DeviceInfo::name).collect(Collectors.toCollection(LinkedHashSet::new));
    if (drives == null) {
      return names;
    }
    for (String d : drives) {
      if (!names.contains(d)) {
        throw new CliException(ExitCodes.USAGE, "no device named '" + d + "' in the archive (it has: "
            + (names.isEmpty() ? "no devices" : String.join(", ", names)) + ")");
      }
    }
    return new LinkedHashSet<>(drives);
  }

  /** Seekable archive: check completeness first, then copy only the data ranges of each image. */
  private int fromArchive(Archive a) throws IOException {
    Set<String> sel = selected(a.header());
    List<DeviceImage> images = a.images().stream().filter(i -> sel.contains(i.info().name())).toList();
    ExtractTarget.checkNames(a.header(), images.stream().map(DeviceImage::info).toList());
    Completeness.check(images.stream().map(DeviceImage::index).toList(), partial,
        "nothing was written");
    long total = images.stream().mapToLong(DeviceImage::allocatedBytes).sum();
    try (ExtractTarget t = ExtractTarget.create(target, force, permissions());
        ProgressBar bar = new ProgressBar("extracting", total)) {
      for (int i = 0; i < a.header().configs().size(); i++) {
        t.writeConfig(a.header(), i, force);
      }
      ByteBuffer buf = ByteBuffer.allocateDirect(COPY_BUFFER);
      long done = 0;
      for (DeviceImage img : images) {
        FileChannel out = t.openImage(img.info(), img.size(), force);
        for (long pos = img.nextData(0); pos >= 0 && pos < img.size(); ) {
          long holeAt = img.nextHole(pos);
          while (pos < holeAt) {
            buf.clear().limit((int) Math.min(COPY_BUFFER, holeAt - pos));
            img.read(pos, buf);
            buf.flip();
            int n = buf.remaining();
            while (buf.hasRemaining()) {
              out.write(buf, pos + buf.position());
            }
            pos += n;
            done += n;
            bar.update(done);
          }
          pos = img.nextData(holeAt);
        }
      }
      t.commit();
    }
    Map<DeviceInfo, Long> written = new java.util.LinkedHashMap<>();
    images.forEach(i -> written.put(i.info(), i.allocatedBytes()));
    report(written, a.header());
    return ExitCodes.OK;
  }

  /** Stream (stdin): write stored blocks as they pass, check completeness at the end. */
  private int fromStream(VmaStreamReader reader, ProgressBar bar) throws IOException {
    VmaHeader h = reader.header();
    Set<String> sel = selected(h);
    ExtractTarget.checkNames(h, h.devices().stream().filter(d -> sel.contains(d.name())).toList());
    ExtentIndexBuilder builder = new ExtentIndexBuilder(h);
    Map<Integer, FileChannel> outs = new HashMap<>();
    Map<Integer, DeviceInfo> devs = new HashMap<>();
    Map<DeviceInfo, Long> written = new java.util.LinkedHashMap<>();
    try (ExtractTarget t = ExtractTarget.create(target, force, permissions())) {
      for (int i = 0; i < h.configs().size(); i++) {
        t.writeConfig(h, i, force);
      }
      for (DeviceInfo d : h.devices()) {
        if (sel.contains(d.name())) {
          // vmstate's real length is only known at the end; it is grown as data arrives.
          outs.put(d.id(), t.openImage(d, d.isVmstate() ? 0 : d.size(), force));
          devs.put(d.id(), d);
        }
      }
      byte[] data = new byte[MAX_BLOCKS_PER_EXTENT * BLOCK_SIZE];
      ExtentHeader e;
      while ((e = reader.nextExtent()) != null) {
        List<ExtentHeader.Slot> slots = e.slots();
        boolean[] rewrite = new boolean[slots.size()];
        for (int i = 0; i < slots.size(); i++) {
          ExtentHeader.Slot s = slots.get(i);
          rewrite[i] = builder.seen(s.devId(), s.cluster())
              || listedBefore(slots, i); // a copy earlier in this very extent
        }
        builder.accept(e);
        reader.readData(data);
        writeExtent(slots, data, rewrite, outs, devs);
      }
      ExtentIndex index = builder.finish(reader.position(), null);
      List<DeviceIndex> chosen = index.devices().stream().filter(d -> sel.contains(d.info().name())).toList();
      Completeness.check(chosen, partial, "nothing was written");
      chosen.forEach(d -> written.put(d.info(), d.storedBytes()));
      for (DeviceIndex d : chosen) {
        if (d.info().isVmstate()) {
          outs.get(d.info().id()).truncate(d.imageSize());
        }
      }
      t.commit();
    }
    report(written, h);
    return ExitCodes.OK;
  }

  /** Whether an earlier slot of the extent lists the same (device, cluster) as slot {@code i}. */
  private static boolean listedBefore(List<ExtentHeader.Slot> slots, int i) {
    for (int s = 0; s < i; s++) {
      if (slots.get(s).sameCluster(slots.get(i))) {
        return true;
      }
    }
    return false;
  }

  /** Extracted files hold the archive's data: never more readable than the archive itself. */
  private Set<PosixFilePermission> permissions() throws IOException {
    return stored == null ? PosixFilePermissions.fromString("rw-rw-rw-")
        : FileTrust.derivedPermissions(stored);
  }

  /**
   * Writes the stored blocks of one extent at their places in the images.
   *
   * @param rewrite per slot: the cluster was written before (a duplicate; with --partial the last
   *     copy wins, so its zero blocks must overwrite the earlier copy's data)
   */
  private static void writeExtent(List<ExtentHeader.Slot> slots, byte[] data, boolean[] rewrite,
      Map<Integer, FileChannel> outs, Map<Integer, DeviceInfo> devs) throws IOException {
    for (int i = 0; i < slots.size(); i++) {
      ExtentHeader.Slot s = slots.get(i);
      FileChannel out = outs.get(s.devId());
      DeviceInfo d = devs.get(s.devId());
      if (out == null || s.cluster() >= d.clusterCount()) {
        continue; // not extracted, or past the device's end (ignored, as vma does)
      }
      for (int j = 0; j < BLOCKS_PER_CLUSTER; j++) {
        long pos = s.imageOffset(j);
        if (pos >= d.size() || !s.stored(j) && !rewrite[i]) {
          continue;
        }
        int len = (int) Math.min(BLOCK_SIZE, d.size() - pos);
        ByteBuffer src = s.stored(j) ? ByteBuffer.wrap(data, s.dataStart(j), len) : ByteBuffer.allocate(len);
        int start = src.position();
        while (src.hasRemaining()) {
          out.write(src, pos + src.position() - start);
        }
      }
    }
  }

  /** The paths written, or with --json what was written (docs/json.md). */
  private void report(Map<DeviceInfo, Long> dataBytes, VmaHeader h) throws IOException {
    List<DeviceInfo> devices = new ArrayList<>(dataBytes.keySet());
    if (json) {
      Map<String, Object> o = Json.object();
      o.put("archive", archive);
      o.put("target", target.toAbsolutePath().toString());
      List<Object> files = Json.array();
      long total = 0;
      for (ConfigBlob c : h.configs()) {
        files.add(file(c.name(), "config", c.size(), c.size()));
        total += c.size();
      }
      for (DeviceInfo d : devices) {
        long size = d.isVmstate() ? Files.size(target.resolve(d.imageFileName())) : d.size();
        files.add(file(d.imageFileName(), "disk", size, dataBytes.get(d)));
        total += dataBytes.get(d);
      }
      o.put("files", files);
      o.put("data_bytes", total);
      o.put("seconds", Math.round((System.nanoTime() - started) / 1e6) / 1000.0);
      System.out.print(Json.write(o));
      System.out.flush();
      return;
    }
    StringBuilder sb = new StringBuilder();
    for (ConfigBlob c : h.configs()) {
      sb.append(Printable.of(target.resolve(c.name()).toString())).append('\n');
    }
    for (DeviceInfo d : devices) {
      sb.append(Printable.of(target.resolve(d.imageFileName()).toString())).append('\n');
    }
    System.out.print(sb);
    System.out.flush();
  }

  private Map<String, Object> file(String name, String kind, long size, long data) {
    Map<String, Object> m = Json.object();
    m.put("name", name);
    m.put("kind", kind);
    m.put("path", target.toAbsolutePath().resolve(name).toString());
    m.put("size", size);
    m.put("data_bytes", data);
    return m;
  }
}
