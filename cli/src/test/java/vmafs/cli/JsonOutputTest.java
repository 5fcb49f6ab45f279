package vmafs.cli;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import vmafs.vma.testing.Sources;

/**
 * Every command's {@code --json} parses and has exactly the fields docs/json.md documents, with
 * values that match what was done ({@code mount} and {@code umount}: tests module, MountJsonTest).
 */
class JsonOutputTest {
  @TempDir Path dir;
  byte[] disk0;
  Path img0;
  Path img1;
  Path conf;
  Path archive;

  @BeforeEach
  void archive() throws IOException {
    disk0 = Sources.mixed(5_000_123, 1);
    img0 = Files.write(dir.resolve("disk0.raw"), disk0);
    img1 = Files.write(dir.resolve("disk1.raw"), Sources.random(70_001, 2));
    conf = Files.writeString(dir.resolve("qemu-server.conf"), "memory: 64\n");
    archive = dir.resolve("vzdump-qemu-100-2026_11_22-12_00_00.vma");
  }

  private JsonNode createArchive() {
    Cli.Result r = Cli.run("create", "--json", "--uuid", "00112233445566778899aabbccddeeff", "--ctime", "1700000000",
        "-c", conf.toString(), archive.toString(), "drive-scsi0=" + img0, "drive-virtio1=" + img1);
    assertEquals(0, r.code(), r.err());
    return JsonSchema.of("create").check(r.stdout());
  }

  @Test
  void create() throws IOException {
    JsonNode o = createArchive();
    assertEquals(archive.toAbsolutePath().toString(), o.get("archive").asText());
    assertEquals(Files.size(archive), o.get("bytes").asLong());
    assertEquals("00112233-4455-6677-8899-aabbccddeeff", o.get("uuid").asText());
    assertEquals("2023-11-14T22:13:20Z", o.get("ctime").asText());
    assertEquals("qemu-server.conf", o.get("configs").get(0).get("name").asText());
    assertEquals(disk0.length, o.get("devices").get(0).get("size").asLong());
    assertEquals("drive-virtio1", o.get("devices").get(1).get("name").asText());
    Cli.run("create", "--json", "-", "drive-scsi0=" + img0).assertCleanError(ExitCodes.USAGE);
  }

  @Test
  void info() {
    createArchive();
    Cli.Result r = Cli.run("info", "--json", archive.toString());
    assertEquals(0, r.code(), r.err());
    JsonNode o = JsonSchema.of("info").check(r.stdout());
    assertEquals("none", o.get("compression").asText());
    assertTrue(o.get("complete").asBoolean());
    assertEquals("disk-drive-scsi0.raw", o.get("devices").get(0).get("file").asText());
  }

  @Test
  void verify() {
    createArchive();
    Cli.Result r = Cli.run("verify", "--json", archive.toString());
    assertEquals(0, r.code(), r.err());
    JsonNode o = JsonSchema.of("verify").check(r.stdout());
    assertTrue(o.get("ok").asBoolean());
    assertEquals(2, o.get("devices").size());
    assertTrue(o.get("stream_bytes").asLong() > disk0.length / 2);
  }

  @Test
  void index() {
    createArchive();
    Cli.Result r = Cli.run("index", "--json", archive.toString());
    assertEquals(0, r.code(), r.err());
    JsonNode o = JsonSchema.of("index").check(r.stdout());
    assertTrue(o.get("built").asBoolean());
    assertTrue(Files.isRegularFile(Path.of(o.get("index_file").asText())));
  }

  @Test
  void extract() throws IOException {
    createArchive();
    Path out = dir.resolve("out");
    Cli.Result r = Cli.run("extract", "--json", archive.toString(), out.toString());
    assertEquals(0, r.code(), r.err());
    JsonNode o = JsonSchema.of("extract").check(r.stdout());
    assertEquals(out.toAbsolutePath().toString(), o.get("target").asText());
    JsonNode files = o.get("files");
    assertEquals(3, files.size());
    assertEquals("config", files.get(0).get("kind").asText());
    JsonNode disk = files.get(1);
    assertEquals("disk-drive-scsi0.raw", disk.get("name").asText());
    assertEquals(disk0.length, disk.get("size").asLong());
    assertArrayEquals(disk0, Files.readAllBytes(Path.of(disk.get("path").asText())));
    assertStoredData(disk.get("data_bytes").asLong());
    long sum = 0;
    for (JsonNode f : files) {
      sum += f.get("data_bytes").asLong();
    }
    assertEquals(sum, o.get("data_bytes").asLong());
  }

  @Test
  void extractFromAStream() throws IOException {
    createArchive();
    Path out = dir.resolve("out-stream");
    Cli.Result r = Cli.runWithStdin(archive, "extract", "--json", "-", out.toString());
    assertEquals(0, r.code(), r.err());
    JsonNode o = JsonSchema.of("extract").check(r.stdout());
    assertEquals("-", o.get("archive").asText());
    assertStoredData(o.get("files").get(1).get("data_bytes").asLong());
  }

  /** The non-zero 4 KiB blocks of disk0 (its last block is partial, which may count whole). */
  private void assertStoredData(long dataBytes) {
    long blocks = Sources.dataBlocks(disk0);
    assertTrue(dataBytes > (blocks - 1) * 4096L && dataBytes <= blocks * 4096L,
        dataBytes + " data bytes for " + blocks + " non-zero blocks");
  }

  @Test
  void convert() throws IOException {
    createArchive();
    Path out = dir.resolve("seekable.vma.zst");
    Cli.Result r = Cli.run("convert", "--json", "--frame-size=256K", archive.toString(), "--seekable", out.toString());
    assertEquals(0, r.code(), r.err());
    JsonNode o = JsonSchema.of("convert").check(r.stdout());
    assertEquals(Files.size(out), o.get("output_bytes").asLong());
    assertEquals(Files.size(archive), o.get("input_bytes").asLong());
    assertEquals(256 * 1024, o.get("frame_size").asLong());
    assertTrue(o.get("verified").asBoolean());
  }
}
