package vmafs.cli;

import static vmafs.vma.VmaFormat.*;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import vmafs.archive.SeekableArchive;
import vmafs.source.DecodeOptions;
import vmafs.vma.io.AtomicFile;
import vmafs.vma.io.FileTrust;
import vmafs.vma.io.LocalStoredBytes;
import vmafs.vma.io.StoredBytes;

@Command(
    name = "convert",
    mixinStandardHelpOptions = true,
    header = "Rewrite an archive as a seekable .vma.zst that mounts at once.",
    description = {
      "The output holds independent zstd frames of about --frame-size of VMA stream each, cut on"
          + " block boundaries, a seek table and the archive's index. It mounts with true random"
          + " access, no spill file and no decode pass, and 'zstd -d' (hence Proxmox's own restore)"
          + " still reads it byte for byte. The output is verified before it gets its final name."
    },
    footer = {
      "  vmafs convert vzdump-qemu-100-2026_11_22-12_00_00.vma.zst --seekable vzdump-qemu-100-2026_11_22-12_00_00-seekable.vma.zst",
      "  vmafs convert --frame-size=256K vzdump-qemu-100-2026_11_22-12_00_00.vma.lzo --seekable vm100-seekable.vma.zst"
    })
final class ConvertCommand implements Callable<Integer> {
  @Mixin CommonOptions common;

  @Mixin RemoteArchiveOptions remote;

  @Parameters(index = "0", paramLabel = "ARCHIVE", description = "The archive to convert: a file, s3://BUCKET/KEY or an http(s):// URL.")
  String archive;

  @Option(names = "--seekable", required = true, paramLabel = "OUT",
      description = "The seekable .vma.zst to write.")
  Path out;

  @Option(names = "--frame-size", paramLabel = "SIZE", defaultValue = "1M",
      description = "Uncompressed bytes per frame (default: ${DEFAULT-VALUE}; smaller frames make"
          + " random reads cheaper and the file slightly larger).")
  String frameSize;

  @Option(names = "--level", defaultValue = "3", description = "zstd level (default: ${DEFAULT-VALUE}, as vzdump).")
  int level;

  @Option(names = "--threads", defaultValue = "2", description = "Compression threads (default: ${DEFAULT-VALUE}).")
  int threads;

  @Option(names = "--force", description = "Replace OUT if it exists.")
  boolean force;

  @Option(names = "--json", description = "Print what was written as JSON (docs/json.md).")
  boolean json;

  @Override
  public Integer call() throws Exception {
    long started = System.nanoTime();
    StoredBytes in = remote.open(archive);
    long frame = Units.parseSize(frameSize);
    if (frame < BLOCK_SIZE || frame > DecodeOptions.DEFAULT_ZSTD_MAX_FRAME / 2) {
      throw new CliException(ExitCodes.USAGE, "--frame-size must be between 4K and "
          + DecodeOptions.DEFAULT_ZSTD_MAX_FRAME / 2 / 1024 + "K");
    }
    if (Files.exists(out) && !force) {
      throw new CliException(ExitCodes.ENVIRONMENT, out + ": already exists (use --force to replace it)");
    }
    // Both files are created safely (AtomicFile): the index only ever lives in its private
    // directory, the output is renamed into place once verified.
    try (in; AtomicFile output = AtomicFile.create(out, FileTrust.derivedPermissions(in));
        AtomicFile index = AtomicFile.create(out.resolveSibling(out.getFileName() + ".index"),
            FileTrust.privatePermissions())) {
      byte[] sourceHash;
      try (ProgressBar bar = new ProgressBar("converting", in.size())) {
        try (OutputStream os = new BufferedOutputStream(output.outputStream(), 1 << 20)) {
          sourceHash = SeekableArchive.write(ArchiveArgs.stream(in, bar), os, index.channel(),
              (int) frame, level, threads);
        }
      }
      try (ProgressBar bar = new ProgressBar("verifying", output.channel().size())) {
        verify(output.temporary(), sourceHash, bar);
      }
      output.commit(true);
    }
    if (json) {
      Map<String, Object> o = Json.object();
      o.put("archive", in instanceof LocalStoredBytes l ? l.path().toAbsolutePath().toString()
          : in.name());
      o.put("output", out.toAbsolutePath().toString());
      o.put("input_bytes", in.size());
      o.put("output_bytes", Files.size(out));
      o.put("frame_size", frame);
      o.put("level", level);
      o.put("verified", true);
      o.put("seconds", Math.round((System.nanoTime() - started) / 1e6) / 1000.0);
      System.out.print(Json.write(o));
    } else {
      System.out.println(out + ": " + Units.bytes(Files.size(out)) + " (from " + Units.bytes(in.size()) + ")");
    }
    return ExitCodes.OK;
  }

  /** Decodes the output from scratch (every check of a pass and of the VMA reader): the same bytes. */
  private static void verify(Path tmp, byte[] expected, ProgressBar bar) throws IOException {
    byte[] actual = SeekableArchive.decodedDigest(tmp, (d, t) -> bar.update(d))
        .orElseThrow(() -> new CliException(ExitCodes.INTERNAL, "the converted file has no usable seek table"));
    if (!MessageDigest.isEqual(expected, actual)) {
      throw new CliException(ExitCodes.INTERNAL, "verification failed: the converted stream hashes to "
          + HexFormat.of().formatHex(actual) + ", the source to " + HexFormat.of().formatHex(expected));
    }
  }
}
