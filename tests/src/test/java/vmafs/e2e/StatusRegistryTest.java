package vmafs.e2e;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code vmafs status} finds NBD servers through their status sockets in the runtime directory
 * and trusts nothing someone else could have put there: a directory others can write, a socket
 * of another user, a socket nobody answers on, a server that answers garbage or never answers.
 * The fake servers are small Python programs listening where a vmafs server would.
 */
class StatusRegistryTest {
  @TempDir Path tmp;
  private final List<Process> fakes = new ArrayList<>();

  @AfterEach
  void stopFakes() throws InterruptedException {
    for (Process p : fakes) {
      p.destroyForcibly();
      p.waitFor();
    }
  }

  private static final String FAKE = String.join("\n",
      "import socket, sys, time",
      "s = socket.socket(socket.AF_UNIX)",
      "s.bind(sys.argv[1])",
      "s.listen()",
      "print('ready', flush=True)",
      "while True:",
      "    c, _ = s.accept()",
      "    if sys.argv[2] == 'HANG':",
      "        time.sleep(60)",
      "    c.sendall(sys.argv[2].encode())",
      "    c.close()");

  /** A process that answers every connection on {@code socket} with {@code answer}. */
  private void fake(Path socket, String answer) throws IOException {
    Process p = new ProcessBuilder("python3", "-c", FAKE, socket.toString(), answer).start();
    fakes.add(p);
    String line = new String(p.getInputStream().readNBytes(6));
    assertEquals("ready\n", line, "the fake server did not start");
  }

  private static String status(String name) {
    return "{\"archive\": \"/backups/" + name + "\", \"state\": \"indexing\", \"pid\": 1"
        + ", \"listening\": [\"unix:/nowhere/" + name + ".sock\"]}";
  }

  /** How many of the listed servers have their status socket in {@code servers}. */
  private static int listed(String out, Path servers) {
    return out.split("\"status_socket\": \"" + java.util.regex.Pattern.quote(servers.toString()), -1).length - 1;
  }

  @Test
  void onlyPrivateDirectoriesAndTheirOwnersSocketsAreTrusted() throws Exception {
    Map<String, String> env = Served.env(tmp);
    Path servers = Files.createDirectories(Path.of(env.get("XDG_RUNTIME_DIR"), "vmafs", "servers"));
    Files.setPosixFilePermissions(servers.getParent(), PosixFilePermissions.fromString("rwx------"));
    Files.setPosixFilePermissions(servers, PosixFilePermissions.fromString("rwxrwxrwx"));
    fake(servers.resolve("1.sock"), status("planted-in-an-open-dir"));
    String out = Run.exec(Run.vmafsCommand("status", "--json"), null, env).ok().out();
    assertFalse(out.contains("planted-in-an-open-dir"), "a directory anyone can write is not read: " + out);

    Files.setPosixFilePermissions(servers, PosixFilePermissions.fromString("rwx------"));
    out = Run.exec(Run.vmafsCommand("status", "--json"), null, env).ok().out();
    assertTrue(out.contains("/backups/planted-in-an-open-dir"), "the same socket, once the directory is private: " + out);

    // Another user's socket in this user's directory.
    Path other = servers.resolve("2.sock");
    fake(other, status("another-users"));
    Run.cmd("chown", "65534", other.toString()).ok();
    // Nobody listens on this one (a killed server's).
    Run.cmd("python3", "-c", "import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])",
        servers.resolve("3.sock").toString()).ok();
    // Garbage, and a server that never answers.
    fake(servers.resolve("4.sock"), "{\"state\": [1, 2]}");
    fake(servers.resolve("5.sock"), "HANG");
    Run.Result r = Run.exec(Run.vmafsCommand("status", "--json"), null, env).ok();
    out = r.out();
    assertFalse(out.contains("another-users"), out);
    assertEquals(3, listed(out, servers), "1, 4 and 5 are listed: " + out);
    assertTrue(out.contains("no status: the status is not a flat JSON object"), out);
    assertTrue(out.contains("did not answer within"), out);

    // A symbolic link to a socket is no socket of the directory.
    Files.delete(servers.resolve("4.sock"));
    Files.createSymbolicLink(servers.resolve("6.sock"), servers.resolve("1.sock"));
    out = Run.exec(Run.vmafsCommand("status", "--json"), null, env).ok().out();
    assertEquals(2, listed(out, servers), "1 and 5: " + out);

    // One server by its address; an address nobody serves is a usage error.
    out = Run.exec(Run.vmafsCommand("status", "unix:/nowhere/planted-in-an-open-dir.sock"), null, env).ok().out();
    assertTrue(out.contains("archive  /backups/planted-in-an-open-dir"), out);
    Run.Result none = Run.exec(Run.vmafsCommand("status", "127.0.0.1:1"), null, env);
    assertEquals(2, none.code(), none.out() + none.err());
    assertTrue(none.err().contains("nor an address"), none.err());
  }
}
