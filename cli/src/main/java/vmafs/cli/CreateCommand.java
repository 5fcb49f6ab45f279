package vmafs.cli;

import static vmafs.vma.VmaFormat.*;

import java.io.BufferedOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import vmafs.vma.ConfigBlob;
import vmafs.vma.io.AtomicFile;
import vmafs.vma.write.VmaWriter;
import vmafs.vma.write.VmaWriter.DeviceSpec;

@Command(
    name = "create",
    mixinStandardHelpOptions = true,
    header = "Write a VMA archive that Proxmox's 'vma' and 'qmrestore' accept.",
    description = {
      "Reads raw disk images and config files. Zero 4 KiB blocks are not stored and every cluster"
          + " is listed, as vzdump does. For qmrestore, the config needs a"
          + " '#qmdump#map:<virtdev>:<devname>:<storage>:<format>:' line per drive."
    },
    footer = {
      "  vmafs create backup.vma -c qemu-server.conf drive-scsi0=disk0.raw drive-efidisk0=efivars.raw",
      "  vmafs create - drive-scsi0=disk0.raw | zstd --threads=2 > vzdump-qemu-100-2026_11_22-12_00_00.vma.zst"
    })
final class CreateCommand implements Callable<Integer> {
  /** Clusters per run when --order=shuffled: like QEMU's parallel block-copy workers. */
  private static final int SHUFFLE_RUN = 16;

  @Mixin CommonOptions common;

  @Parameters(index = "0", paramLabel = "ARCHIVE", description = "The archive to write, or - for stdout.")
  String archive;

  @Parameters(index = "1..*", paramLabel = "DEVNAME=IMAGE",
      description = "A device (e.g. drive-scsi0=disk.raw); repeatable. Device names must not contain whitespace or '/'.")
  List<String> deviceArgs = new ArrayList<>();

  @Option(names = {"-c", "--config"}, paramLabel = "FILE",
      description = "A config file to store under its base name (e.g. qemu-server.conf); repeatable.")
  List<Path> configs = new ArrayList<>();

  @Option(names = "--order", defaultValue = "sequential", paramLabel = "ORDER",
      description = "Cluster order: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}). Proxmox"
          + " backs up drives one after another but out of order within a drive; 'shuffled' mimics"
          + " that across drives, 'interleaved' mimics 'vma create'.")
  Order order;

  @Option(names = "--seed", defaultValue = "1", description = "Seed for --order=shuffled.")
  long seed;

  @Option(names = "--slots", defaultValue = "58",
      description = "Clusters per extent: 58 as Proxmox writes, up to 59.")
  int slots;

  @Option(names = "--uuid", description = "Archive uuid as 32 hex digits (default: random).")
  String uuid;

  @Option(names = "--ctime", description = "Creation time, seconds since the epoch (default: now).")
  Long ctime;

  @Option(names = "--force", description = "Replace ARCHIVE if it exists.")
  boolean force;

  @Option(names = "--json", description = "Print what was written as JSON (docs/json.md); not with ARCHIVE -.")
  boolean json;

  enum Order { sequential, interleaved, shuffled }

  private record Source(int devId, String name, Path image, long size) {}

  @Override
  public Integer call() throws Exception {
    long started = System.nanoTime();
    if (json && ArchiveArgs.isStdin(archive)) {
      throw new CliException(ExitCodes.USAGE, "--json prints to stdout, where 'create -' writes the archive");
    }
    if (slots < 1 || slots > SLOTS_PER_EXTENT) {
      throw new CliException(ExitCodes.USAGE, "--slots must be between 1 and " + SLOTS_PER_EXTENT);
    }
    List<Source> sources = parseDevices();
    List<ConfigBlob> blobs = new ArrayList<>();
    for (Path c : configs) {
      if (Files.size(ArchiveArgs.existing(c.toString())) > MAX_BLOB_LENGTH) {
        throw new CliException(ExitCodes.USAGE, c + ": config files can be at most " + MAX_BLOB_LENGTH + " bytes in a VMA");
      }
      blobs.add(new ConfigBlob(c.getFileName().toString(), Files.readAllBytes(c)));
    }
    byte[] id = uuid();
    long time = ctime != null ? ctime : System.currentTimeMillis() / 1000;
    List<DeviceSpec> specs = sources.stream().map(s -> new DeviceSpec(s.name(), s.size())).toList();

    if (ArchiveArgs.isStdin(archive)) {
      write(new BufferedOutputStream(new FileOutputStream(java.io.FileDescriptor.out), 1 << 20), id, time, blobs, specs, sources);
      return ExitCodes.OK;
    }
    Path out = Path.of(archive);
    if (Files.exists(out) && !force) {
      throw new CliException(ExitCodes.ENVIRONMENT, archive + ": already exists (use --force to replace it)");
    }
    // Created exclusively and renamed into place (never written through a planted link), with the
    // usual umask mode rather than createTempFile's 0600.
    try (AtomicFile f = AtomicFile.create(out, PosixFilePermissions.fromString("rw-rw-rw-"))) {
      try (OutputStream os = new BufferedOutputStream(f.outputStream(), 1 << 20)) {
        write(os, id, time, blobs, specs, sources);
      }
      f.commit();
    }
    if (json) {
      System.out.print(Json.write(summaryJson(out, id, time, blobs, sources, (System.nanoTime() - started) / 1e9)));
      System.out.flush();
    }
    return ExitCodes.OK;
  }

  /** What --json prints (docs/json.md). */
  private static java.util.Map<String, Object> summaryJson(Path out, byte[] id, long time, List<ConfigBlob> blobs,
      List<Source> sources, double seconds) throws IOException {
    java.util.Map<String, Object> o = Json.object();
    o.put("archive", out.toAbsolutePath().toString());
    o.put("bytes", Files.size(out));
    ByteBuffer uuid = ByteBuffer.wrap(id);
    o.put("uuid", new java.util.UUID(uuid.getLong(), uuid.getLong()).toString());
    o.put("ctime", java.time.Instant.ofEpochSecond(time).toString());
    List<Object> configs = Json.array();
    for (ConfigBlob c : blobs) {
      java.util.Map<String, Object> m = Json.object();
      m.put("name", c.name());
      m.put("size", c.size());
      configs.add(m);
    }
    o.put("configs", configs);
    List<Object> devices = Json.array();
    for (Source s : sources) {
      java.util.Map<String, Object> m = Json.object();
      m.put("name", s.name());
      m.put("image", s.image().toAbsolutePath().toString());
      m.put("size", s.size());
      devices.add(m);
    }
    o.put("devices", devices);
    o.put("seconds", Math.round(seconds * 1000) / 1000.0);
    return o;
  }

  private List<Source> parseDevices() throws IOException {
    List<Source> out = new ArrayList<>();
    for (String arg : deviceArgs) {
      int eq = arg.indexOf('=');
      if (eq <= 0 || eq == arg.length() - 1) {
        throw new CliException(ExitCodes.USAGE, "expected DEVNAME=IMAGE, got '" + arg + "'");
      }
      String name = arg.substring(0, eq);
      try {
        VmaWriter.NameRules.checkDeviceName(name);
      } catch (IllegalArgumentException e) {
        throw new CliException(ExitCodes.USAGE, e.getMessage());
      }
      Path image = ArchiveArgs.existing(arg.substring(eq + 1));
      long size = Files.size(image);
      if (size == 0) {
        throw new CliException(ExitCodes.USAGE, image + ": empty image (devices must have a size)");
      }
      out.add(new Source(out.size() + 1, name, image, size));
    }
    return out;
  }

  private byte[] uuid() {
    if (uuid == null) {
      byte[] b = new byte[UUID_SIZE];
      new SecureRandom().nextBytes(b);
      return b;
    }
    try {
      byte[] b = HexFormat.of().parseHex(uuid.replace("-", ""));
      if (b.length == UUID_SIZE) {
        return b;
      }
    } catch (IllegalArgumentException e) {
      // fall through
    }
    throw new CliException(ExitCodes.USAGE, "--uuid needs 32 hex digits, got '" + uuid + "'");
  }

  private void write(OutputStream os, byte[] id, long time, List<ConfigBlob> blobs,
      List<DeviceSpec> specs, List<Source> sources) throws IOException {
    long total = sources.stream().mapToLong(Source::size).sum();
    List<FileChannel> channels = new ArrayList<>();
    List<SparseSource> holes = new ArrayList<>();
    try (ProgressBar bar = new ProgressBar("creating", total)) {
      for (Source s : sources) {
        channels.add(FileChannel.open(s.image()));
        holes.add(SparseSource.open(s.image()));
      }
      VmaWriter w = VmaWriter.create(os, id, time, blobs, specs, slots);
      byte[] cluster = new byte[CLUSTER_SIZE];
      long done = 0;
      for (long[] c : (Iterable<long[]>) () -> clusterOrder(sources)) {
        Source s = sources.get((int) c[0]);
        long at = c[1] << CLUSTER_SHIFT;
        if (holes.get((int) c[0]).isHole(at, at + CLUSTER_SIZE)) {
          w.writeZeroCluster(s.devId(), c[1]);
        } else {
          readCluster(channels.get((int) c[0]), c[1], cluster);
          w.writeCluster(s.devId(), c[1], cluster);
        }
        done += CLUSTER_SIZE;
        bar.update(Math.min(done, total));
      }
      w.close();
    } finally {
      for (FileChannel ch : channels) {
        ch.close();
      }
      holes.forEach(SparseSource::close);
    }
  }

  private static void readCluster(FileChannel ch, long cluster, byte[] buf) throws IOException {
    ByteBuffer bb = ByteBuffer.wrap(buf);
    long pos = cluster << CLUSTER_SHIFT;
    while (bb.hasRemaining()) {
      int n = ch.read(bb, pos + bb.position());
      if (n < 0) {
        break;
      }
    }
    Arrays.fill(buf, bb.position(), buf.length, (byte) 0);
  }

  /** (source index, cluster) pairs in the requested order; every cluster exactly once. */
  private java.util.Iterator<long[]> clusterOrder(List<Source> sources) {
    List<long[]> runs = new ArrayList<>(); // (source, first cluster, count)
    for (int i = 0; i < sources.size(); i++) {
      long n = clusterCount(sources.get(i).size());
      int run = order == Order.sequential ? Integer.MAX_VALUE : order == Order.interleaved ? 1 : SHUFFLE_RUN;
      for (long c = 0; c < n; c += run) {
        runs.add(new long[] {i, c, Math.min(run, n - c)});
      }
    }
    if (order == Order.interleaved) {
      runs.sort((a, b) -> a[1] != b[1] ? Long.compare(a[1], b[1]) : Long.compare(a[0], b[0]));
    } else if (order == Order.shuffled) {
      Collections.shuffle(runs, new Random(seed));
    }
    return runs.stream().flatMap(r -> java.util.stream.LongStream.range(0, r[2])
        .mapToObj(k -> new long[] {r[0], r[1] + k})).iterator();
  }
}
