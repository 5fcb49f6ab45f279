package vmafs.nbd;

import java.nio.file.Path;
import java.util.List;

/** Manual smoke run: java -cp … vmafs.nbd.Smoke SOCKET */
public final class Smoke {
  public static void main(String[] args) throws Exception {
    SparseImage img = new SparseImage(64L << 20).data(0, 1 << 20).data(8 << 20, (8 << 20) + 12288)
        .data(32L << 20, 40L << 20);
    NbdServer s = new NbdServer(List.of(new Export("drive-scsi0", "test disk", img),
        new Export("drive-efidisk0", "efi", new SparseImage(528 * 1024 + 7).data(0, 4096))),
        ServerLimits.defaults(), TlsMode.OFF, null);
    System.out.println(s.listen(List.of(ListenAddress.parse("unix:" + args[0]), ListenAddress.parse("127.0.0.1:0"))));
    Thread.sleep(Long.MAX_VALUE);
  }
}
