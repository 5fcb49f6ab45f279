package vmafs.cli;

import static vmafs.vma.VmaFormat.*;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import vmafs.archive.EmbeddedIndex;
import vmafs.source.DecodeOptions;
import vmafs.source.DecodePass;
import vmafs.source.SeekableZstdWriter;
import vmafs.source.ZstdFrameMap;
import vmafs.vma.ExtentHeader;
import vmafs.vma.VmaStreamReader;
import vmafs.vma.index.ArchiveIdentity;
import vmafs.vma.index.ExtentIndex;
import vmafs.vma.index.ExtentIndexBuilder;
import vmafs.vma.index.IndexFile;
import vmafs.vma.io.AtomicFile;
import vmafs.vma.io.FileTrust;

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
    vmafs.vma.io.StoredBytes in = remote.open(archive);
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
        sourceHash = write(ArchiveArgs.stream(in, bar), output, index, (int) frame);
      }
      try (ProgressBar bar = new ProgressBar("verifying", output.channel().size())) {
        verify(output.temporary(), sourceHash, bar);
      }
      output.commit(true);
    }
    if (json) {
      Map<String, Object> o = Json.object();
      o.put("archive", in instanceof vmafs.vma.io.LocalStoredBytes l ? l.path().toAbsolutePath().toString()
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

  /** Copies the VMA stream into frames; returns the SHA-256 of the stream. */
  private byte[] write(VmaStreamReader reader, AtomicFile output, AtomicFile indexFile, int frame)
      throws IOException {
    MessageDigest sha = sha256();
    try (OutputStream os = new BufferedOutputStream(output.outputStream(), 1 << 20);
        SeekableZstdWriter w = new SeekableZstdWriter(os, level, threads, DecodeOptions.DEFAULT_ZSTD_MAX_FRAME)) {
      Frames f = new Frames(w, sha, frame);
      f.put(reader.headerBytes(), 0, reader.headerBytes().length);
      f.cut();
      ExtentIndexBuilder builder = new ExtentIndexBuilder(reader.header());
      byte[] data = new byte[MAX_BLOCKS_PER_EXTENT * BLOCK_SIZE];
      ExtentHeader e;
      while ((e = reader.nextExtent()) != null) {
        builder.accept(e);
        if (f.full()) {
          f.cut(); // on an extent boundary
        }
        f.put(reader.extentHeaderBytes(), 0, EXTENT_HEADER_SIZE);
        reader.readData(data);
        for (int b = 0; b < e.blockCount(); b++) {
          if (f.full()) {
            f.cut(); // on a 4 KiB block boundary
          }
          f.put(data, b * BLOCK_SIZE, BLOCK_SIZE);
        }
      }
      f.cut();
      ExtentIndex built = builder.finish(reader.position(), null);
      IndexFile.write(indexFile.channel(), built, ArchiveIdentity.EMBEDDED, Map.of());
      // Streamed from the file: an index can exceed 2 GiB (a ~20 TiB disk).
      w.writeSkippableFrame(EmbeddedIndex.NIBBLE,
          EmbeddedIndex.pack(indexFile.channel(), indexFile.channel().size()));
    }
    return sha.digest();
  }

  /** Frame accounting: cut only where {@link #full()} says, so frames end on block boundaries. */
  private static final class Frames {
    private final SeekableZstdWriter w;
    private final MessageDigest sha;
    private final int target;
    private long inFrame;

    Frames(SeekableZstdWriter w, MessageDigest sha, int target) {
      this.w = w;
      this.sha = sha;
      this.target = target;
    }

    void put(byte[] b, int off, int len) throws IOException {
      w.write(b, off, len);
      sha.update(b, off, len);
      inFrame += len;
    }

    boolean full() {
      return inFrame >= target;
    }

    void cut() throws IOException {
      w.endFrame();
      inFrame = 0;
    }
  }

  /** Decodes the output from scratch: frame checksums, every VMA check, the same bytes. */
  private static void verify(Path tmp, byte[] expected, ProgressBar bar) throws IOException {
    if (ZstdFrameMap.fromSeekTable(tmp, DecodeOptions.DEFAULT_ZSTD_MAX_FRAME).isEmpty()) {
      throw new CliException(ExitCodes.INTERNAL, "the converted file has no usable seek table");
    }
    MessageDigest sha = sha256();
    try (DecodePass pass = DecodePass.open(tmp, DecodeOptions.defaults().withStreamOnly()
        .withProgress((d, t) -> bar.update(d)))) {
      InputStream in = new DigestInputStream(pass.stream(), sha);
      VmaStreamReader r = VmaStreamReader.open(in);
      byte[] data = new byte[MAX_BLOCKS_PER_EXTENT * BLOCK_SIZE];
      while (r.nextExtent() != null) {
        r.readData(data); // not skipData: DigestInputStream does not hash skipped bytes
      }
      in.transferTo(OutputStream.nullOutputStream());
    }
    byte[] actual = sha.digest();
    if (!MessageDigest.isEqual(expected, actual)) {
      throw new CliException(ExitCodes.INTERNAL, "verification failed: the converted stream hashes to "
          + HexFormat.of().formatHex(actual) + ", the source to " + HexFormat.of().formatHex(expected));
    }
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

}
