package vmafs.cli;

import java.io.PrintStream;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import vmafs.vma.ConfigBlob;
import vmafs.vma.DeviceInfo;
import vmafs.vma.VmaHeader;
import vmafs.cli.log.Printable;

@Command(
    name = "list",
    mixinStandardHelpOptions = true,
    header = "Print the configs and devices exactly as Proxmox's 'vma list' does.",
    description = {
      "The CFG:, DEV: and CTIME: lines are byte for byte those of 'vma list', so scripts written for"
          + " vma list and qmrestore keep working. Only the header is read."
    },
    footer = {
      "  vmafs list vzdump-qemu-100-2026_11_22-12_00_00.vma",
      "  zstd -dc vzdump-qemu-100-2026_11_22-12_00_00.vma.zst | vmafs list -"
    })
final class ListCommand implements Callable<Integer> {
  @Mixin CommonOptions common;

  @Mixin RemoteArchiveOptions remote;

  @Parameters(index = "0", paramLabel = "ARCHIVE", description = "The archive (a file, s3://BUCKET/KEY or an http(s):// URL), or - for stdin.")
  String archive;

  /** C's ctime(3): "Www Mmm dd hh:mm:ss yyyy", day padded with a space, local time. */
  private static final DateTimeFormatter CTIME =
      DateTimeFormatter.ofPattern("EEE MMM ppd HH:mm:ss yyyy", Locale.ROOT);

  @Override
  public Integer call() throws Exception {
    VmaHeader h = ArchiveArgs.stream(archive, remote).header();
    print(h, System.out);
    return ExitCodes.OK;
  }

  static void print(VmaHeader h, PrintStream out) {
    StringBuilder sb = new StringBuilder();
    for (ConfigBlob c : h.configs()) {
      sb.append("CFG: size: ").append(c.size()).append(" name: ").append(Printable.of(c.name())).append('\n');
    }
    for (DeviceInfo d : h.devices()) {
      if (d.isVmstate()) {
        sb.append("VMSTATE: dev_id=").append(d.id()).append(" memory: ").append(d.size()).append('\n');
      } else {
        sb.append("DEV: dev_id=").append(d.id()).append(" size: ").append(d.size())
            .append(" devname: ").append(Printable.of(d.name())).append('\n');
      }
    }
    sb.append("CTIME: ").append(ctime(h.ctime())).append('\n');
    out.print(sb);
    out.flush();
  }

  /** C's ctime(3) of the header's time; a time no calendar holds (a crafted 2^62) as the number. */
  static String ctime(long epochSeconds) {
    try {
      return CTIME.format(Instant.ofEpochSecond(epochSeconds).atZone(ZoneId.systemDefault()));
    } catch (DateTimeException e) {
      return epochSeconds + " (seconds since the epoch, out of range)";
    }
  }

  /** The header's time as ISO-8601, or the number when no calendar holds it. */
  static String isoTime(long epochSeconds) {
    try {
      return Instant.ofEpochSecond(epochSeconds).toString();
    } catch (DateTimeException e) {
      return Long.toString(epochSeconds);
    }
  }
}
