package vmafs.nbd;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import vmafs.nbd.tls.TlsCredentials;

/** An NbdServer on a Unix socket in a test's temp dir; closed (and its socket gone) after the test. */
final class TestServer implements AutoCloseable {
  /** 8 MiB + 1234: an unaligned size, data at the start, in the middle, and in the last bytes. */
  static SparseImage image() {
    long size = (8L << 20) + 1234;
    return new SparseImage(size).data(0, 65536).data(1 << 20, (1 << 20) + 12288)
        .data(4L << 20, 6L << 20).data(size - 5000, size);
  }

  final NbdServer server;
  final Path socket;
  final List<ListenAddress> bound;

  TestServer(Path dir, List<Export> exports, ServerLimits limits, TlsMode mode, TlsCredentials tls,
      ListenAddress... more) throws IOException {
    socket = dir.resolve("nbd.sock");
    server = new NbdServer(exports, limits, mode, tls);
    List<ListenAddress> addrs = new java.util.ArrayList<>(List.of(new ListenAddress.Unix(socket)));
    addrs.addAll(List.of(more));
    bound = server.listen(addrs);
  }

  TestServer(Path dir, SparseImage image) throws IOException {
    this(dir, List.of(new Export("disk", "a test disk", image)), ServerLimits.defaults(), TlsMode.OFF, null);
  }

  /** Short timeouts, for the tests that wait for them. */
  static ServerLimits quick() {
    return ServerLimits.defaults().withTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(2));
  }

  String uri(String export) {
    return "nbd+unix:///" + export + "?socket=" + socket;
  }

  RawClient client() throws IOException {
    return new RawClient(socket);
  }

  @Override
  public void close() {
    server.shutdown(Duration.ofSeconds(5));
  }
}
