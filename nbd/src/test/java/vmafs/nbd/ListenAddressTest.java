package vmafs.nbd;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Addresses as users write them, and what listening on them does to what is already there. */
class ListenAddressTest {
  @TempDir Path dir;

  @Test
  void addressesParseAsWritten() {
    assertEquals(new ListenAddress.Unix(Path.of("/run/x.sock")), ListenAddress.parse("unix:/run/x.sock"));
    assertEquals(new ListenAddress.Tcp("127.0.0.1", 10809), ListenAddress.parse("127.0.0.1:10809"));
    assertEquals(new ListenAddress.Tcp("::1", 10809), ListenAddress.parse("[::1]:10809"));
    assertEquals(new ListenAddress.Tcp("backup.example", 0), ListenAddress.parse("backup.example:0"));
    assertEquals("[::1]:10809", ListenAddress.parse("[::1]:10809").display());
    assertEquals("nbds://[::1]:10809/drive-scsi0", ListenAddress.parse("[::1]:10809").uri("drive-scsi0", true));
    assertEquals("nbd+unix:///drive%20x?socket=/run/x.sock", ListenAddress.parse("unix:/run/x.sock").uri("drive x", false));
    assertTrue(((ListenAddress.Tcp) ListenAddress.parse("localhost:1")).isLoopback());
    assertFalse(((ListenAddress.Tcp) ListenAddress.parse("0.0.0.0:1")).isLoopback());
  }

  @Test
  void badAddressesSayWhatIsWrong() {
    for (String[] bad : new String[][] {
        {"unix:", "path"}, {"10809", "HOST:PORT"}, {":10809", "give a host"}, {"::1:10809", "brackets"},
        {"[::1]10809", "[ADDRESS]:PORT"}, {"host:port", "not a port"}, {"host:70000", "65535"},
        {"unix:/" + "x".repeat(106), "106 bytes"}}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ListenAddress.parse(bad[0]), bad[0]);
      assertTrue(e.getMessage().contains(bad[1]), bad[0] + ": " + e.getMessage());
    }
  }

  private NbdServer server() throws IOException {
    return new NbdServer(List.of(new Export("disk", "d", TestServer.image())), ServerLimits.defaults(), TlsMode.OFF, null);
  }

  @Test
  void aStaleSocketIsReplacedAndAnythingElseIsLeftAlone() throws IOException {
    Path sock = dir.resolve("s.sock");
    // A socket file whose server is gone (bound, then closed without removing it).
    try (var ch = java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
      ch.bind(java.net.UnixDomainSocketAddress.of(sock));
    }
    assertTrue(Files.exists(sock));
    NbdServer a = server();
    try {
      a.listen(List.of(new ListenAddress.Unix(sock)));
      assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(sock)));
      // A live socket is not taken over.
      NbdServer b = server();
      IOException e = assertThrows(IOException.class, () -> b.listen(List.of(new ListenAddress.Unix(sock))));
      assertTrue(e.getMessage().contains("another server is listening"), e.getMessage());
      b.close();
    } finally {
      a.close();
    }
    assertFalse(Files.exists(sock), "removed when the server stops");

    Path file = Files.writeString(dir.resolve("f.sock"), "precious");
    Path link = Files.createSymbolicLink(dir.resolve("l.sock"), dir.resolve("elsewhere"));
    for (Path p : List.of(file, link)) {
      NbdServer c = server();
      IOException e = assertThrows(IOException.class, () -> c.listen(List.of(new ListenAddress.Unix(p))));
      assertTrue(e.getMessage().contains("is not a socket"), e.getMessage());
      c.close();
    }
    assertEquals("precious", Files.readString(file));
    assertTrue(Files.isSymbolicLink(link));
  }

  @Test
  void anAddressInUseFailsAndNothingIsLeftListening() throws IOException {
    try (var taken = java.nio.channels.ServerSocketChannel.open()) {
      taken.bind(new java.net.InetSocketAddress("127.0.0.1", 0));
      int port = ((java.net.InetSocketAddress) taken.getLocalAddress()).getPort();
      Path sock = dir.resolve("first.sock");
      NbdServer s = server();
      IOException e = assertThrows(IOException.class,
          () -> s.listen(List.of(new ListenAddress.Unix(sock), new ListenAddress.Tcp("127.0.0.1", port))));
      assertTrue(e.getMessage().contains("cannot listen on 127.0.0.1:" + port), e.getMessage());
      assertFalse(Files.exists(sock), "the first address was let go again");
      s.close();
    }
  }
}
