package vmafs.e2e;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Booting a VM straight from a backup served over NBD, as from another host: the boot disk of
 * {@link BootTest} (its marker sector far into the disk, out of order in the archive), served by
 * {@code vmafs nbd} over a Unix socket, and over TCP with TLS and client certificates.
 */
class NbdBootTest {
  @TempDir static Path dir;
  static Path disk;
  static Path certs;
  static Served plain;
  static Served tls;

  @BeforeAll
  static void serve() throws IOException {
    Path archive = BootTest.bootArchive(dir);
    disk = dir.resolve("disk.raw");
    certs = dir.resolve("certs");
    Run.cmd(Run.ROOT.resolve("samples/tls-certs.sh").toString(), certs.toString()).ok();
    plain = Served.start(dir.resolve("home-plain"), archive);
    tls = Served.start(dir.resolve("home-tls"), archive, "--listen", "127.0.0.1:0",
        "--tls-cert", certs.resolve("server-cert.pem").toString(), "--tls-key", certs.resolve("server-key.pem").toString(),
        "--tls-ca", certs.resolve("ca-cert.pem").toString());
  }

  @AfterAll
  static void stop() {
    for (Served s : new Served[] {plain, tls}) {
      if (s != null) {
        s.close();
      }
    }
  }

  static String nbdDrive(int port, String extra) {
    return "driver=nbd,host=127.0.0.1,port=" + port + ",export=drive-virtio0,if=virtio" + extra;
  }

  static String[] tlsObject(Path clientDir) {
    return new String[] {"-object", "tls-creds-x509,id=tls0,dir=" + clientDir + ",endpoint=client", "-snapshot"};
  }

  @Test
  void bootsOverAUnixSocketWithSnapshotAndGuestWritesGoNowhere() {
    String uri = plain.uri("drive-virtio0");
    BootTest.assertBooted(Qemu.boot("file=" + uri + ",format=raw,if=virtio", "-snapshot"), true);
    assertEquals("Images are identical.",
        Run.cmd("qemu-img", "compare", "-f", "raw", "-F", "raw", uri, disk.toString()).ok().out().trim());
  }

  @Test
  void bootsFromAQcow2OverlayOnTheNbdExport() throws IOException {
    Path overlay = dir.resolve("overlay.qcow2");
    Run.cmd("qemu-img", "create", "-f", "qcow2", "-b", plain.uri("drive-virtio0"), "-F", "raw", overlay.toString()).ok();
    BootTest.assertBooted(Qemu.boot("file=" + overlay + ",format=qcow2,if=virtio"), true);
    // The guest's write is in the overlay: it differs from the backup exactly there.
    Run.Result cmp = Run.cmd("qemu-img", "compare", "-f", "qcow2", "-F", "raw", overlay.toString(), disk.toString());
    assertEquals(1, cmp.code(), cmp.out() + cmp.err());
    assertTrue(cmp.out().contains("Content mismatch at offset " + BootTest.WRITE_LBA * 512 + "!"), cmp.out());
    BootTest.assertBooted(Qemu.boot("file=" + overlay + ",format=qcow2,if=virtio"), true);
    Files.delete(overlay);
  }

  @Test
  void bootsOverTcpWithTlsAndAClientCertificate() {
    BootTest.assertBooted(Qemu.boot(nbdDrive(tls.port(), ",tls-creds=tls0"), tlsObject(certs.resolve("client"))), true);
  }

  @Test
  void clientsWithoutTheRightCertificateAreRefused() throws IOException {
    // A certificate from another CA. qemu checks its own certificate too, so its CA bundle holds
    // both CAs: it trusts the server, and only the server can refuse it.
    Path rogue = dir.resolve("rogue");
    Run.cmd(Run.ROOT.resolve("samples/tls-certs.sh").toString(), rogue.toString()).ok();
    Files.writeString(rogue.resolve("client/ca-cert.pem"), Files.readString(rogue.resolve("ca-cert.pem"))
        + Files.readString(certs.resolve("ca-cert.pem")));
    // No certificate at all.
    Path none = Files.createDirectories(dir.resolve("none"));
    Files.copy(certs.resolve("ca-cert.pem"), none.resolve("ca-cert.pem"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    for (Path clientDir : new Path[] {rogue.resolve("client"), none}) {
      Run.Result r = Qemu.boot(nbdDrive(tls.port(), ",tls-creds=tls0"), tlsObject(clientDir));
      assertFalse(r.out().contains("vmafs-boot"), "the guest must not run: " + r.out());
      assertTrue(r.err().contains("TLS"), r.err());
    }
    // Without TLS: the server requires it.
    Run.Result r = Qemu.boot(nbdDrive(tls.port(), ""), "-snapshot");
    assertFalse(r.out().contains("vmafs-boot"), r.out());
    assertNotEquals(0, r.code());
    assertTrue(tls.alive(), "the server outlives its refusals");
    String log = tls.log();
    assertEquals(2, log.lines().filter(l -> l.contains("closed: TLS failed")).count(),
        "the server refused both certificates itself: " + log);
  }

  @Test
  void aDriveThatIsNeitherSnapshotNorReadOnlyIsRefused() {
    Run.Result rw = Qemu.boot("file=" + plain.uri("drive-virtio0") + ",format=raw,if=virtio");
    assertEquals(1, rw.code());
    assertTrue(rw.err().contains("read-only"), rw.err());
    // readonly=on: the guest reads, and its write fails inside the guest.
    Run.Result ro = Qemu.boot("file=" + plain.uri("drive-virtio0") + ",format=raw,if=virtio,readonly=on");
    assertTrue(ro.out().contains("reading LBA " + BootTest.MARKER), ro.out());
    assertEquals(Qemu.EXIT_FAIL, ro.code(), ro.out() + ro.err());
  }
}
