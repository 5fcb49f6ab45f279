package vmafs.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * {@code vmafs mount --pid-file PATH}: the server's pid, for systemd ({@code PIDFile=}) and scripts.
 * Written to an unguessable name beside PATH, created exclusively, then renamed over PATH, so a
 * symlink planted at PATH is replaced rather than followed; removed when the server ends, unless
 * by then it holds another pid.
 */
final class PidFile {
  private final Path path;
  private final String content;

  private PidFile(Path path, String content) {
    this.path = path;
    this.content = content;
  }

  static PidFile write(Path path) throws IOException {
    Path target = path.toAbsolutePath();
    byte[] random = new byte[8];
    new SecureRandom().nextBytes(random);
    Path tmp = target.resolveSibling("." + target.getFileName() + "." + HexFormat.of().formatHex(random));
    String content = ProcessHandle.current().pid() + "\n";
    Files.write(tmp, content.getBytes(StandardCharsets.US_ASCII), StandardOpenOption.CREATE_NEW,
        StandardOpenOption.WRITE);
    try {
      Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
    return new PidFile(target, content);
  }

  /** Removes the file if it still names this process. */
  void remove() {
    try {
      if (Files.readString(path, StandardCharsets.US_ASCII).equals(content)) {
        Files.delete(path);
      }
    } catch (IOException e) {
      // gone already, or replaced: nothing of ours to remove
    }
  }
}
