package vmafs.cli;

import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import vmafs.vma.ConfigBlob;
import vmafs.vma.VmaHeader;

@Command(
    name = "config",
    mixinStandardHelpOptions = true,
    header = "Write the raw bytes of a config file stored in the archive to stdout.",
    description = {"Only the header is read. 'vmafs list' shows which configs there are."},
    footer = {
      "  vmafs config vzdump-qemu-100-2026_11_22-12_00_00.vma.zst",
      "  vmafs config -c qemu-server.fw vzdump-qemu-100-2026_11_22-12_00_00.vma.zst > 100.fw"
    })
final class ConfigCommand implements Callable<Integer> {
  @Mixin CommonOptions common;

  @Mixin RemoteArchiveOptions remote;

  @Parameters(index = "0", paramLabel = "ARCHIVE", description = "The archive (a file, s3://BUCKET/KEY or an http(s):// URL), or - for stdin.")
  String archive;

  @Option(names = {"-c", "--config"}, paramLabel = "NAME", defaultValue = "qemu-server.conf",
      description = "Which config (default: ${DEFAULT-VALUE}). 'vmafs list' shows the names.")
  String name;

  @Override
  public Integer call() throws Exception {
    VmaHeader h = ArchiveArgs.stream(archive, remote).header();
    ConfigBlob c = h.config(name).orElseThrow(() -> new CliException(ExitCodes.USAGE,
        "unable to find configuration data '" + name + "' (the archive has: "
            + (h.configs().isEmpty() ? "no configs" : h.configs().stream().map(ConfigBlob::name)
                .collect(Collectors.joining(", "))) + ")"));
    System.out.write(c.data());
    System.out.flush();
    return ExitCodes.OK;
  }
}
