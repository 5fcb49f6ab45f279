package vmafs.fuse3;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The kernel sizes buffered FUSE reads by the mount's bdi readahead (128 KiB by default), not by
 * libfuse's limit. Raising it to 1 MiB makes sequential reads arrive as 1 MiB requests, 8× fewer
 * callbacks (docs/fuse.md §2). Only root may write the sysfs knob.
 */
final class ReadAhead {
  private static final Logger log = LoggerFactory.getLogger(ReadAhead.class);

  private ReadAhead() {}

  /** Sets {@code /sys/class/bdi/<device>/read_ahead_kb} if permitted; otherwise leaves it. */
  static void raise(String device, int kilobytes) {
    Path knob = Path.of("/sys/class/bdi", device, "read_ahead_kb");
    if (!Files.isWritable(knob)) {
      log.debug("{} is not writable; keeping the default readahead", knob);
      return;
    }
    try {
      Files.writeString(knob, Integer.toString(kilobytes));
    } catch (IOException e) {
      log.debug("cannot raise the readahead through {}: {}", knob, e.toString());
    }
  }
}
