package vmafs.e2e;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code vmafs nbd} as a user runs it, against the real clients: qemu-img, nbdinfo and nbdcopy
 * (libnbd) read every export of every kind of archive byte for byte and see its holes.
 */
class NbdTest {
  @TempDir static Path dir;
  static Path disk0;
  static Path disk1;
  static Path raw;

  @BeforeAll
  static void archives() throws IOException {
    disk0 = Images.sparse(dir.resolve("disk0.raw"), (96L << 20) + 3 * 4096 + 512, 40, 21);
    disk1 = Images.sparse(dir.resolve("disk1.raw"), (5L << 20) + 1536, 5, 22);
    Path conf = Files.writeString(dir.resolve("qemu-server.conf"), "name: served\n");
    raw = dir.resolve("vzdump-qemu-102-2026_11_22-00_00_00.vma");
    Run.vmafs("create", "--order", "shuffled", "-c", conf.toString(), raw.toString(),
        "drive-scsi0=" + disk0, "drive-virtio1=" + disk1).ok();
    for (String ext : List.of("zst", "lzo", "gz")) {
      Run.sh(CompressedTest.compressor(ext) + " < '" + raw + "' > '" + archive(ext) + "'").ok();
    }
    Run.vmafs("convert", archive("zst").toString(), "--seekable", archive("seekable").toString()).ok();
  }

  static Path archive(String kind) {
    return kind.equals("vma") ? raw : dir.resolve("vzdump-qemu-102-2026_11_22-00_00_00.vma." + kind);
  }

  /** The data ranges a qemu-img map --output=json reports, merged. */
  static List<long[]> qemuMap(String uri) {
    String json = Run.cmd("qemu-img", "map", "--output=json", "-f", "raw", uri).ok().out();
    Matcher m = Pattern.compile("\"start\": (\\d+), \"length\": (\\d+),.*?\"data\": (true|false)").matcher(json);
    List<long[]> out = new ArrayList<>();
    while (m.find()) {
      if (m.group(3).equals("true")) {
        add(out, Long.parseLong(m.group(1)), Long.parseLong(m.group(2)));
      }
    }
    return out;
  }

  /** The data ranges nbdinfo --map reports (type 0: allocated, not zero), merged. */
  static List<long[]> nbdinfoMap(String uri) {
    List<long[]> out = new ArrayList<>();
    for (String line : Run.cmd("nbdinfo", "--map", uri).ok().out().lines().toList()) {
      String[] f = line.trim().split("\\s+");
      if (Integer.parseInt(f[2]) == 0) {
        add(out, Long.parseLong(f[0]), Long.parseLong(f[1]));
      } else {
        assertEquals(3, Integer.parseInt(f[2]), "holes are hole,zero: " + line);
      }
    }
    return out;
  }

  private static void add(List<long[]> out, long start, long length) {
    if (!out.isEmpty() && out.get(out.size() - 1)[1] == start) {
      out.get(out.size() - 1)[1] = start + length;
    } else {
      out.add(new long[] {start, start + length});
    }
  }

  /** Bytes the file's blocks take on disk ({@code du}). */
  static long allocated(Path f) {
    return 512L * Long.parseLong(Run.cmd("stat", "-c", "%b", f.toString()).ok().out().trim());
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"vma", "zst", "lzo", "gz", "seekable"})
  void everyExportIsTheSourceImageWithItsHoles(String kind) throws IOException {
    Path home = dir.resolve("home-" + kind);
    try (Served s = Served.start(home, archive(kind))) {
      String list = Run.cmd("nbdinfo", "--list", "nbd+unix:///?socket=" + s.socket()).ok().out();
      assertTrue(list.contains("export=\"drive-scsi0\"") && list.contains("export=\"drive-virtio1\""), list);
      assertTrue(list.contains("description: drive-scsi0 of " + archive(kind).getFileName()), list);
      assertFalse(list.contains("qemu-server.conf"), "configs are not exports: " + list);
      assertTrue(list.contains("is_read_only: true") && list.contains("can_multi_conn: true"), list);

      for (String[] d : new String[][] {{"drive-scsi0", disk0.toString()}, {"drive-virtio1", disk1.toString()}}) {
        Path source = Path.of(d[1]);
        String uri = s.uri(d[0]);
        assertEquals("Images are identical.", Run.cmd("qemu-img", "compare", "-f", "raw", "-F", "raw", uri, source.toString())
            .ok().out().trim());
        String expected = MountTest.render(Images.dataRanges(source));
        assertEquals(expected, MountTest.render(qemuMap(uri)), "qemu-img map of " + d[0]);
        assertEquals(expected, MountTest.render(nbdinfoMap(uri)), "nbdinfo --map of " + d[0]);

        Path copy = home.resolve(d[0] + ".raw");
        Run.cmd("nbdcopy", uri, copy.toString()).ok();
        assertEquals(Images.sha256(source), Images.sha256(copy));
        long data = Images.dataRanges(source).stream().mapToLong(r -> r[1] - r[0]).sum();
        assertTrue(allocated(copy) <= data + (1 << 20), "nbdcopy's copy is sparse: " + allocated(copy) + " for " + data);
        Files.delete(copy);
      }
      Path qcow = home.resolve("scsi0.qcow2");
      Run.cmd("qemu-img", "convert", "-f", "raw", "-O", "qcow2", s.uri("drive-scsi0"), qcow.toString()).ok();
      assertEquals("Images are identical.", Run.cmd("qemu-img", "compare", "-f", "qcow2", "-F", "raw", qcow.toString(),
          disk0.toString()).ok().out().trim());
      assertTrue(Files.size(qcow) < Files.size(disk0) / 2, "the qcow2 skipped the holes");
      Files.delete(qcow);
    }
  }

  @Test
  void twoClientsAtOnceGetCorrectBytes() throws Exception {
    Path home = dir.resolve("home-two");
    try (Served s = Served.start(home, raw)) {
      List<Process> ps = new ArrayList<>();
      List<Path> copies = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        Path copy = home.resolve("copy" + i + ".raw");
        copies.add(copy);
        // Each nbdcopy opens 4 connections (multi-conn) with 64 requests in flight on each.
        ps.add(new ProcessBuilder("nbdcopy", "--connections=4", s.uri("drive-scsi0"), copy.toString())
            .redirectErrorStream(true).redirectOutput(home.resolve("nbdcopy" + i + ".log").toFile()).start());
      }
      Run.Result cmp = Run.cmd("qemu-img", "compare", "-f", "raw", "-F", "raw", s.uri("drive-virtio1"), disk1.toString());
      for (Process p : ps) {
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue());
      }
      assertEquals(0, cmp.code(), cmp.out() + cmp.err());
      for (Path c : copies) {
        assertEquals(Images.sha256(disk0), Images.sha256(c));
      }
    }
  }

  @Test
  void writesAreRefusedAndTheExportStaysTheBackup() throws IOException {
    Path home = dir.resolve("home-write");
    try (Served s = Served.start(home, raw)) {
      // Clients see NBD_FLAG_READ_ONLY and refuse to write (the server's EPERM for a client that
      // writes anyway is in the nbd module's ProtocolTest).
      Run.Result rw = Run.cmd("qemu-io", "-f", "raw", "-c", "write -P 0x55 0 64k", s.uri("drive-scsi0"));
      assertEquals(1, rw.code());
      assertTrue(rw.err().contains("Permission denied"), rw.err());
      Run.Result w = Run.cmd("qemu-io", "-r", "-f", "raw", "-c", "write -P 0x55 0 64k", s.uri("drive-scsi0"));
      assertTrue(w.err().contains("Block node is read-only"), w.err());
      Run.Result nbdcopyTo = Run.cmd("nbdcopy", disk1.toString(), s.uri("drive-virtio1"));
      assertNotEquals(0, nbdcopyTo.code(), "copying onto an export fails");
      assertTrue(nbdcopyTo.err().contains("read-only"), nbdcopyTo.err());
      assertEquals("Images are identical.", Run.cmd("qemu-img", "compare", "-f", "raw", "-F", "raw", s.uri("drive-scsi0"),
          disk0.toString()).ok().out().trim());
    }
  }

  @Test
  void tcpWithoutTlsOnAPublicAddressWarnsAndTheUriIsPrinted() throws IOException {
    Path home = dir.resolve("home-tcp");
    try (Served s = Served.start(home, raw, "--listen", "0.0.0.0:0", "--listen", "127.0.0.1:0")) {
      assertTrue(s.errors().contains("0.0.0.0:" + s.port() + " is reachable from other hosts"), s.errors());
      assertEquals(1, s.errors().lines().filter(l -> l.contains("reachable from other hosts")).count(),
          "the loopback address is not warned about: " + s.errors());
      // The wildcard address's URI names this host, as clients elsewhere reach it.
      String host = java.net.InetAddress.getLocalHost().getHostName();
      assertTrue(s.output().contains("nbd://" + host + ":" + s.port() + "/drive-scsi0"), s.output());
      assertTrue(s.output().contains("nbd://127.0.0.1:"), s.output());
      Run.cmd("nbdinfo", "--size", "nbd://127.0.0.1:" + s.port() + "/drive-virtio1").ok();
    }
  }

  @Test
  void sigtermInTheForegroundDrainsAndRemovesTheSocket() throws Exception {
    Path home = dir.resolve("home-fg");
    Map<String, String> env = Served.env(home);
    Path sock = home.resolve("fg.sock");
    ProcessBuilder pb = new ProcessBuilder(Run.vmafsCommand("nbd", "-f", "--listen", "unix:" + sock, raw.toString()))
        .redirectErrorStream(true).redirectOutput(home.resolve("fg.log").toFile());
    pb.environment().putAll(env);
    Process p = pb.start();
    try {
      for (int i = 0; i < 300 && !Files.exists(sock); i++) {
        Mounted.sleep(100);
      }
      assertTrue(Files.exists(sock), Files.readString(home.resolve("fg.log")));
      // A client with a connection open (qemu-nbd style: the export open while the server stops).
      Process reader = new ProcessBuilder("nbdcopy", "nbd+unix:///drive-scsi0?socket=" + sock, "null:")
          .redirectErrorStream(true).start();
      reader.waitFor(60, TimeUnit.SECONDS);
      assertEquals(0, reader.exitValue());
      p.destroy(); // SIGTERM
      assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the server did not exit on SIGTERM");
      assertEquals(128 + 15, p.exitValue(), "the JVM's status after SIGTERM: " + Files.readString(home.resolve("fg.log")));
      assertFalse(Files.readString(home.resolve("fg.log")).contains("Exception"), Files.readString(home.resolve("fg.log")));
      assertFalse(Files.exists(sock), "the socket is removed");
    } finally {
      p.destroyForcibly();
    }
  }

  @Test
  void theSameSocketCannotBeServedTwice() throws IOException {
    Path home = dir.resolve("home-twice");
    try (Served s = Served.start(home, raw)) {
      Run.Result second = Run.exec(Run.vmafsCommand("nbd", raw.toString()), null, s.env());
      assertEquals(5, second.code(), second.err());
      assertTrue(second.err().contains("another server is listening"), second.err());
      assertTrue(s.alive());
    }
  }

  /** Whoever can write to the socket's directory could put a socket of their own where ours goes. */
  @Test
  void aRuntimeDirectoryThatIsNotPrivateIsRefused() throws IOException {
    Path home = dir.resolve("home-planted");
    Map<String, String> env = Served.env(home);
    Path run = Path.of(env.get("XDG_RUNTIME_DIR"));
    Path elsewhere = Files.createDirectories(home.resolve("elsewhere"));
    Files.createSymbolicLink(run.resolve("vmafs"), elsewhere);
    Run.Result r = Run.exec(Run.vmafsCommand("nbd", raw.toString()), null, env);
    assertEquals(5, r.code(), r.err());
    assertTrue(r.err().contains("is not a private directory"), r.err());
    try (var files = Files.list(elsewhere)) {
      assertEquals(0, files.count(), "nothing was put through the link");
    }
    Files.delete(run.resolve("vmafs"));
    Files.createDirectory(run.resolve("vmafs"));
    Files.setPosixFilePermissions(run.resolve("vmafs"), java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
    r = Run.exec(Run.vmafsCommand("nbd", raw.toString()), null, env);
    assertEquals(5, r.code(), r.err());
    assertTrue(r.err().contains("mode 777"), r.err());
  }

  @Test
  void badCommandLinesAndArchivesAreRefusedWithTheirExitCode() throws IOException {
    Map<String, String> env = Served.env(dir.resolve("home-bad"));
    record Case(int code, String message, String[] args) {}
    Path certs = dir.resolve("no-such-cert.pem");
    Path truncated = dir.resolve("truncated.vma");
    byte[] a = Files.readAllBytes(raw);
    Files.write(truncated, java.util.Arrays.copyOf(a, (int) MountTest.extentBoundaryBefore(
        new java.io.RandomAccessFile(raw.toFile(), "r"), a.length / 2)));
    for (Case c : List.of(
        new Case(2, "--listen", new String[] {"--listen", "nowhere", raw.toString()}),
        new Case(2, "--tls-cert and --tls-key go together", new String[] {"--tls-cert", certs.toString(), raw.toString()}),
        new Case(2, "--tls takes require, on or off", new String[] {"--tls", "maybe", raw.toString()}),
        new Case(5, "no-such-cert.pem", new String[] {"-f", "--tls-cert", certs.toString(), "--tls-key", certs.toString(), raw.toString()}),
        new Case(5, "no such file", new String[] {dir.resolve("absent.vma").toString()}),
        new Case(4, "refusing to serve an incomplete archive", new String[] {"--no-save-index", truncated.toString()}))) {
      List<String> args = new ArrayList<>(List.of("nbd"));
      args.addAll(List.of(c.args()));
      Run.Result r = Run.exec(Run.vmafsCommand(args.toArray(String[]::new)), null, env);
      assertEquals(c.code(), r.code(), String.join(" ", c.args()) + ": " + r.err());
      assertTrue(r.err().contains(c.message()), r.err());
      assertFalse(r.err().contains("Exception"), r.err());
    }
  }
}
