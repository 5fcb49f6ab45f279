package vmafs.cli;

import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import vmafs.archive.Archive;
import vmafs.archive.ArchiveOpener.IndexOrigin;

@Command(
    name = "index",
    mixinStandardHelpOptions = true,
    header = "Build and save the archive's index now, so that later mounts start at once.",
    description = {
      "mount builds and saves the index on first use anyway; info and extract use a saved one."
          + " Prints the index file's path."
    },
    footer = {
      "  vmafs index vzdump-qemu-100-2026_11_22-12_00_00.vma.zst",
      "  vmafs index --index-file /var/cache/vm100.vmafs-index vzdump-qemu-100-2026_11_22-12_00_00.vma.zst"
    })
final class IndexCommand implements Callable<Integer> {
  @Mixin CommonOptions common;

  @Mixin IndexOptions indexOptions;

  @Mixin RemoteArchiveOptions remote;

  @Parameters(index = "0", paramLabel = "ARCHIVE", description = "The archive: a file, s3://BUCKET/KEY or an http(s):// URL.")
  String archive;

  @Option(names = "--json", description = "Print the result as JSON (docs/json.md).")
  boolean json;

  @Override
  public Integer call() throws Exception {
    if (indexOptions.noSave) {
      throw new CliException(ExitCodes.USAGE, "'vmafs index' saves the index; --no-save-index makes no sense here");
    }
    try (Archive a = ArchiveArgs.open(remote.open(archive), indexOptions)) {
      if (a.indexFile() == null) {
        throw new CliException(ExitCodes.ENVIRONMENT, "the index could not be saved (see the warning above)");
      }
      boolean built = a.indexOrigin() != IndexOrigin.LOADED;
      if (json) {
        Map<String, Object> o = Json.object();
        o.put("archive", archive);
        o.put("index_file", a.indexFile().toString());
        o.put("built", built);
        o.put("extents", a.index().extents());
        o.put("compression", a.compression());
        InfoCommand.randomAccessJson(a, o);
        System.out.print(Json.write(o));
      } else {
        System.out.println(a.indexFile() + (built ? "" : " (already up to date)"));
      }
    }
    return ExitCodes.OK;
  }
}
