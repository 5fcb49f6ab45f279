package vmafs.e2e;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scenario 4 of the design card: the README's main command, {@code ./bootstrap demo}, in a fresh
 * checkout (the committed tree, {@code git archive HEAD}, built from scratch by the {@code vmafs}
 * launcher): the user sees the sample backup mounted, its config, the disk booting in qemu and a
 * file read from its ext4 partition through a read-only loop device.
 */
class DemoTest {
  static final String SAMPLE = "samples/vzdump-qemu-100-2026_11_22-12_00_00.vma.zst";

  @TempDir static Path dir;
  static Path checkout;

  @BeforeAll
  static void freshCheckout() throws IOException {
    checkout = dir.resolve("checkout");
    Files.createDirectories(checkout);
    Run.sh("git -c safe.directory='*' -C '" + Run.ROOT + "' archive --format=tar HEAD | tar -x -C '" + checkout + "'").ok();
    assertFalse(Files.exists(checkout.resolve("cli/target")), "not a fresh checkout");
    Run.exec(List.of(checkout.resolve("vmafs").toString(), "--version"), null, Map.of()).ok(); // builds it
  }

  @AfterAll
  static void nothingLeftBehind() {
    Loops.cleanUnder(dir);
    assertEquals(List.of(), Loops.under(dir), "loop devices left behind");
  }

  /** Exactly the README's command on the shipped .vma.zst (needs the zstd-compressed source). */
  @Test
  void onTheShippedSample() throws IOException {
    Path sample = checkout.resolve(SAMPLE);
    assumeTrue(Run.exec(List.of(checkout.resolve("vmafs").toString(), "info", sample.toString()), null, Map.of())
        .code() == 0, "this build cannot read .vma.zst yet");
    demo(sample, dir.resolve("mnt-zst"));
  }

  /** The same demo on the sample decompressed (what 'zstd -dc' gives; runs on builds without .zst support). */
  @Test
  void onTheDecompressedSample() throws IOException {
    Path vma = dir.resolve("vzdump-qemu-100-2026_11_22-12_00_00.vma");
    Run.sh("zstd -q -dc '" + checkout.resolve(SAMPLE) + "' > '" + vma + "'").ok();
    demo(vma, dir.resolve("mnt-vma"));
  }

  private static void demo(Path archive, Path mnt) throws IOException {
    try {
      Run.Result r = Run.exec(List.of(checkout.resolve("bootstrap").toString(), "demo", archive.toString(),
          mnt.toString()), null, Map.of());
      String all = "exit " + r.code() + "\nstdout:\n" + r.out() + "\nstderr:\n" + r.err();
      assertEquals(0, r.code(), all);
      String out = r.out().replace("\r", "");
      // mounted, with both drives and the config
      assertTrue(out.contains("mounted " + archive + " on " + mnt), all);
      assertTrue(out.contains("disk-drive-scsi0.raw") && out.contains("disk-drive-efidisk0.raw"), all);
      assertTrue(out.contains("name: sample-vm") && out.contains("#qmdump#map:scsi0:drive-scsi0:local-lvm:raw:"), all);
      // booted from the mount: the boot sector read its marker ~58 MiB in
      assertTrue(out.contains("vmafs-boot: booted, reading LBA vmafs sample marker at LBA 120000"), all);
      assertTrue(out.contains("vmafs-boot-ok"), all);
      // a file recovered from partition 1 through a read-only loop device
      assertTrue(out.contains("If you can read it through 'losetup -r -P' on a vmafs mount"), all);
      // and listed by debugfs straight from the partition file, numbers.txt with its size
      assertTrue(out.matches("(?s).*100644 \\(1\\) +0 +0 +1288895 .*numbers\\.txt.*"), all);
      // the demo leaves the backup mounted (and says how to unmount), and no loop device
      assertTrue(Mounted.isMounted(mnt), "the demo should leave the backup mounted");
      assertTrue(out.contains("vmafs umount " + mnt), all);
      assertEquals(List.of(), Loops.under(mnt), "the demo left loop devices behind");
    } finally {
      Loops.cleanUnder(mnt);
      if (Mounted.isMounted(mnt)) {
        Run.exec(List.of(checkout.resolve("vmafs").toString(), "umount", mnt.toString()), null, Map.of());
      }
      if (Mounted.isMounted(mnt)) {
        Run.cmd("fusermount3", "-u", "-z", mnt.toString());
      }
      assertFalse(Mounted.isMounted(mnt), "still mounted: " + mnt);
    }
  }
}
