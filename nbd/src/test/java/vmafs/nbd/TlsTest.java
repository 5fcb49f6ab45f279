package vmafs.nbd;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import vmafs.nbd.tls.CredentialsException;
import vmafs.nbd.tls.TlsCredentials;

/**
 * TLS with a real client (libnbd's nbdinfo, GnuTLS underneath) and certificates as users make
 * them (samples/tls-certs.sh with certtool; openssl for the other key formats).
 */
class TlsTest {
  @TempDir static Path certs;
  @TempDir static Path rogue;
  @TempDir Path dir;
  static Path client;

  @BeforeAll
  static void certificates() throws IOException {
    Tools.need("nbdinfo", "openssl");
    Tools.certificates(certs);
    client = certs.resolve("client");
    // A client certificate from another CA, with this server's CA to check the server by.
    Tools.certificates(rogue);
    Files.copy(certs.resolve("ca-cert.pem"), rogue.resolve("client/ca-cert.pem"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    // A client that has no certificate of its own.
    Path none = Files.createDirectories(rogue.resolve("none"));
    Files.copy(certs.resolve("ca-cert.pem"), none.resolve("ca-cert.pem"));
  }

  static TlsCredentials credentials(boolean verifyClients) throws CredentialsException {
    return TlsCredentials.load(certs.resolve("server-cert.pem"), certs.resolve("server-key.pem"),
        verifyClients ? certs.resolve("ca-cert.pem") : null);
  }

  TestServer server(TlsMode mode, boolean verifyClients) throws IOException {
    return new TestServer(dir, List.of(new Export("disk", "a test disk", TestServer.image())),
        ServerLimits.defaults(), mode, credentials(verifyClients), new ListenAddress.Tcp("127.0.0.1", 0));
  }

  static String tcp(TestServer s) {
    return s.bound.get(1).display();
  }

  static Tools.Result nbdinfo(String uri) {
    return Tools.run("nbdinfo", "--list", uri);
  }

  @Test
  void requiredTlsWithClientCertificates() throws IOException {
    try (TestServer s = server(TlsMode.REQUIRE, true)) {
      Tools.Result ok = nbdinfo("nbds://" + tcp(s) + "/?tls-certificates=" + client).ok();
      assertTrue(ok.out().contains("with TLS"), ok.out());
      assertTrue(ok.out().contains("export=\"disk\""), ok.out());
      // TLS over the Unix socket works too.
      assertTrue(nbdinfo("nbds+unix:///?socket=" + s.socket + "&tls-certificates=" + client).ok().out().contains("with TLS"));

      // Refused: no client certificate, a certificate of another CA, no TLS at all.
      assertNotEquals(0, nbdinfo("nbds://" + tcp(s) + "/?tls-certificates=" + rogue.resolve("none")).code());
      assertNotEquals(0, nbdinfo("nbds://" + tcp(s) + "/?tls-certificates=" + rogue.resolve("client")).code());
      assertNotEquals(0, nbdinfo("nbd://" + tcp(s) + "/").code());
    }
  }

  @Test
  void withoutTlsEveryOptionButStartTlsIsRefused() throws IOException {
    try (TestServer s = server(TlsMode.REQUIRE, false); RawClient c = s.client().hello()) {
      for (int option : new int[] {ProtocolTest.OPT_LIST, ProtocolTest.OPT_STRUCTURED_REPLY, 99}) {
        c.option(option, new byte[0]);
        RawClient.OptionReply r = c.optionReply();
        assertEquals(0x80000005, r.type(), "NBD_REP_ERR_TLS_REQD for option " + option);
      }
      c.option(ProtocolTest.OPT_GO, RawClient.infoRequest("disk"));
      assertEquals(0x80000005, c.optionReply().type());
      c.option(ProtocolTest.OPT_EXPORT_NAME, "disk".getBytes(StandardCharsets.US_ASCII));
      assertTrue(c.closedWithin(2000), "EXPORT_NAME cannot be refused: the connection is closed");
    }
  }

  @Test
  void optionalTlsServesBothKindsOfClients() throws IOException {
    try (TestServer s = server(TlsMode.ON, false)) {
      assertTrue(nbdinfo("nbd://" + tcp(s) + "/").ok().out().contains("without TLS"));
      assertTrue(nbdinfo("nbds://" + tcp(s) + "/?tls-certificates=" + rogue.resolve("none")).ok().out().contains("with TLS"));
      // A client that checks the server against another CA refuses it (the client's own check, of
      // the certificate the server presents).
      Path other = Files.createDirectories(dir.resolve("other-ca"));
      Files.copy(rogue.resolve("ca-cert.pem"), other.resolve("ca-cert.pem"));
      assertNotEquals(0, nbdinfo("nbds://" + tcp(s) + "/?tls-certificates=" + other).code());
    }
  }

  @Test
  void startTlsIsRefusedWhenTlsIsOff() throws IOException {
    try (TestServer s = new TestServer(dir, TestServer.image()); RawClient c = s.client().hello()) {
      c.option(5, new byte[0]);
      RawClient.OptionReply r = c.optionReply();
      assertEquals(0x80000002, r.type(), "NBD_REP_ERR_POLICY");
      assertTrue(r.text().contains("--tls-cert"), r.text());
      c.option(ProtocolTest.OPT_LIST, new byte[0]);
      assertEquals(2, c.optionReplies().size(), "the handshake goes on in plain text");
    }
  }

  @Test
  void aTlsHandshakeThatStopsHalfwayIsClosed() throws IOException {
    ServerLimits quick = TestServer.quick();
    try (TestServer s = new TestServer(dir, List.of(new Export("disk", "d", TestServer.image())), quick,
        TlsMode.REQUIRE, credentials(false)); RawClient c = s.client().hello()) {
      c.option(5, new byte[0]);
      assertEquals(1, c.optionReply().type(), "STARTTLS acknowledged");
      c.write(java.nio.ByteBuffer.wrap(new byte[] {0x16, 0x03, 0x01, 0x00})); // the start of a ClientHello
      assertTrue(c.closedWithin(3000), "closed by the handshake limit");
    }
  }

  @Test
  void garbageInsteadOfAClientHelloClosesTheConnection() throws IOException {
    try (TestServer s = server(TlsMode.REQUIRE, false); RawClient c = s.client().hello()) {
      c.option(5, new byte[0]);
      assertEquals(1, c.optionReply().type());
      c.write(java.nio.ByteBuffer.wrap("this is not TLS at all, but it is long enough".getBytes(StandardCharsets.US_ASCII)));
      assertTrue(c.closedWithin(3000));
      try (RawClient d = s.client().hello()) {
        d.option(ProtocolTest.OPT_LIST, new byte[0]);
        assertEquals(0x80000005, d.optionReply().type(), "the server goes on");
      }
    }
  }

  // ---- keys as the tools write them ----

  static Path openssl(Path out, String... args) {
    List<String> cmd = new java.util.ArrayList<>(List.of("openssl"));
    cmd.addAll(List.of(args));
    Tools.run(cmd).ok();
    return out;
  }

  /** A certificate for {@code key} signed by the test CA (SAN 127.0.0.1, localhost). */
  static Path certificateFor(Path key, Path dir) throws IOException {
    Path csr = dir.resolve("req.csr");
    Path ext = Files.writeString(dir.resolve("ext.cnf"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
    openssl(csr, "req", "-new", "-key", key.toString(), "-subj", "/CN=localhost", "-out", csr.toString());
    Path cert = dir.resolve("cert.pem");
    return openssl(cert, "x509", "-req", "-in", csr.toString(), "-CA", certs.resolve("ca-cert.pem").toString(),
        "-CAkey", certs.resolve("ca-key.pem").toString(), "-CAcreateserial", "-days", "2",
        "-extfile", ext.toString(), "-out", cert.toString());
  }

  @Test
  void keysInEveryPemFormatWork() throws IOException {
    record Kind(String name, String[] args, String header) {}
    List<Kind> kinds = List.of(
        new Kind("rsa-pkcs8", new String[] {"genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "OUT"}, "BEGIN PRIVATE KEY"),
        new Kind("rsa-pkcs1", new String[] {"genrsa", "-traditional", "-out", "OUT", "2048"}, "BEGIN RSA PRIVATE KEY"),
        new Kind("ec-sec1", new String[] {"ecparam", "-name", "prime256v1", "-genkey", "-out", "OUT"}, "BEGIN EC PRIVATE KEY"),
        new Kind("ec-pkcs8", new String[] {"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", "OUT"}, "BEGIN PRIVATE KEY"));
    for (Kind k : kinds) {
      Path d = Files.createDirectories(dir.resolve(k.name()));
      Path key = d.resolve("key.pem");
      openssl(key, java.util.Arrays.stream(k.args()).map(a -> a.equals("OUT") ? key.toString() : a).toArray(String[]::new));
      assertTrue(Files.readString(key).contains(k.header()), k.name() + ": " + Files.readString(key).lines().findFirst());
      Path cert = certificateFor(key, d);
      TlsCredentials creds = TlsCredentials.load(cert, key, null);
      try (TestServer s = new TestServer(d, List.of(new Export("disk", "d", TestServer.image())), ServerLimits.defaults(),
          TlsMode.REQUIRE, creds, new ListenAddress.Tcp("127.0.0.1", 0))) {
        Tools.Result r = nbdinfo("nbds://" + tcp(s) + "/?tls-certificates=" + rogue.resolve("none"));
        assertEquals(0, r.code(), k.name() + ": " + r.err());
      }
    }
    // certtool's own key (the script's): PKCS#1 with text before the block.
    assertTrue(Files.readString(certs.resolve("server-key.pem")).contains("BEGIN RSA PRIVATE KEY"));
  }

  @Test
  void unusableFilesAreNamedWithTheReason() throws IOException {
    Path cert = certs.resolve("server-cert.pem");
    Path key = certs.resolve("server-key.pem");
    CredentialsException e = assertThrows(CredentialsException.class,
        () -> TlsCredentials.load(cert, certs.resolve("ca-key.pem"), null));
    assertTrue(e.getMessage().contains("does not belong to the certificate"), e.getMessage());

    Path encrypted = openssl(dir.resolve("enc.pem"), "genpkey", "-algorithm", "RSA", "-aes-128-cbc",
        "-pass", "pass:secret", "-out", dir.resolve("enc.pem").toString());
    e = assertThrows(CredentialsException.class, () -> TlsCredentials.load(cert, encrypted, null));
    assertTrue(e.getMessage().contains("encrypted"), e.getMessage());

    Path der = openssl(dir.resolve("cert.der"), "x509", "-in", cert.toString(), "-outform", "der",
        "-out", dir.resolve("cert.der").toString());
    e = assertThrows(CredentialsException.class, () -> TlsCredentials.load(der, key, null));
    assertTrue(e.getMessage().startsWith(der.toString()), e.getMessage());

    e = assertThrows(CredentialsException.class, () -> TlsCredentials.load(key, key, null));
    assertTrue(e.getMessage().contains("no CERTIFICATE block"), e.getMessage());
    e = assertThrows(CredentialsException.class, () -> TlsCredentials.load(cert, cert, null));
    assertTrue(e.getMessage().contains("no private key"), e.getMessage());
    e = assertThrows(CredentialsException.class, () -> TlsCredentials.load(dir.resolve("absent.pem"), key, null));
    assertTrue(e.getMessage().contains("absent.pem"), e.getMessage());

    Path mangled = Files.writeString(dir.resolve("mangled.pem"),
        "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAK\n-----END RSA PRIVATE KEY-----\n");
    e = assertThrows(CredentialsException.class, () -> TlsCredentials.load(cert, mangled, null));
    assertTrue(e.getMessage().contains("mangled.pem"), e.getMessage());
  }
}
