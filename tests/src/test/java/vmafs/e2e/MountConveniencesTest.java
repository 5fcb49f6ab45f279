package vmafs.e2e;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import vmafs.cli.JsonSchema;

/**
 * What an admin types besides 'vmafs mount ARCHIVE MOUNTPOINT': no mount point, --pid-file,
 * --json, several mount points and --all for umount, and mount(8) / fstab through mount.fuse3 with
 * the repository launcher linked into /usr/local/bin (in a private mount namespace, so the host's
 * /usr/local/bin and /etc/fstab are never touched).
 */
class MountConveniencesTest {
  static final String NAME = "vzdump-qemu-100-2026_11_22-12_00_00";

  @TempDir static Path dir;
  static Path archive;
  static Map<String, String> env;

  @BeforeAll
  static void archive() throws IOException {
    Path disk = Images.sparse(dir.resolve("disk0.raw"), 20L * 1024 * 1024 + 4567, 6, 3);
    archive = dir.resolve(NAME + ".vma");
    Run.vmafs("create", archive.toString(), "drive-scsi0=" + disk).ok();
    env = Map.of("XDG_CACHE_HOME", Files.createDirectories(dir.resolve("cache")).toString(),
        "XDG_RUNTIME_DIR", Files.createDirectories(dir.resolve("run")).toString());
  }

  @AfterAll
  static void nothingLeftMounted() {
    for (String line : Run.cmd("cat", "/proc/self/mountinfo").out().lines().toList()) {
      if (line.contains(dir.toString())) {
        Run.cmd("fusermount3", "-u", "-z", line.split(" ")[4]);
      }
    }
  }

  static Run.Result vmafs(String... args) {
    return Run.exec(Run.vmafsCommand(args), null, env);
  }

  @Test
  void withoutAMountPointOneIsMadeBesideTheArchiveAndRemovedOnUnmount() throws IOException {
    Path pid = dir.resolve("server.pid");
    Run.Result r = vmafs("mount", "--json", "--pid-file", pid.toString(), archive.toString()).ok();
    JsonNode o = JsonSchema.of("mount").check(r.out());
    Path mp = dir.resolve(NAME);
    try {
      assertEquals(mp.toString(), o.get("mountpoint").asText());
      assertTrue(o.get("mountpoint_created").asBoolean());
      assertEquals("libfuse3", o.get("backend").asText());
      assertTrue(Mounted.isMounted(mp));
      assertEquals(Files.size(dir.resolve("disk0.raw")), Files.size(mp.resolve("disk-drive-scsi0.raw")));
      JsonNode file = o.get("files").get(0);
      assertEquals(mp.resolve("disk-drive-scsi0.raw").toString(), file.get("path").asText());
      // the pid file names the server, which is what ends when the mount goes
      long server = Long.parseLong(Files.readString(pid).trim());
      assertEquals(o.get("pid").asLong(), server);
      assertTrue(ProcessHandle.of(server).map(ProcessHandle::isAlive).orElse(false));

      JsonNode u = JsonSchema.of("umount").check(vmafs("umount", "--json", mp.toString()).ok().out());
      assertEquals(mp.toString(), u.get("unmounted").get(0).get("mountpoint").asText());
      assertEquals(archive.toString(), u.get("unmounted").get(0).get("archive").asText());
      assertTrue(u.get("unmounted").get(0).get("mountpoint_removed").asBoolean());
      assertFalse(Files.exists(mp), "the mount point vmafs made is removed");
      waitUntil(() -> !Files.exists(pid) && !ProcessHandle.of(server).map(ProcessHandle::isAlive).orElse(false),
          "the server exits and removes its pid file");
    } finally {
      new Mounted.Cleanup(mp).close();
    }
  }

  /** A directory others can write is no place for a root mount point: /run/vmafs/ instead. */
  @Test
  void anUntrustedArchiveDirectoryMeansRunVmafs() throws IOException {
    Path shared = Files.createDirectory(dir.resolve("shared"));
    Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));
    String name = "vzdump-qemu-" + ProcessHandle.current().pid() + "-2026_11_22-12_00_00";
    Path copy = Files.copy(archive, shared.resolve(name + ".vma"));
    Path mp = Path.of("/run/vmafs", name);
    try {
      JsonNode o = JsonSchema.of("mount").check(vmafs("mount", "--json", "--no-save-index", copy.toString()).ok().out());
      assertEquals(mp.toString(), o.get("mountpoint").asText());
      assertFalse(Files.exists(shared.resolve(name)), "nothing made in the shared directory");
      String mode = PosixFilePermissions.toString(Files.getPosixFilePermissions(mp.getParent()));
      assertEquals('-', mode.charAt(4), mode);
      assertEquals('-', mode.charAt(7), mode);
      vmafs("umount", mp.toString()).ok();
      assertFalse(Files.exists(mp));
    } finally {
      new Mounted.Cleanup(mp).close();
      Files.deleteIfExists(mp);
    }
  }

  @Test
  void umountTakesSeveralMountPointsAndAll() throws IOException {
    Path a = Files.createDirectories(dir.resolve("mnt-a"));
    Path b = Files.createDirectories(dir.resolve("mnt-b"));
    Path c = Files.createDirectories(dir.resolve("mnt-c"));
    try {
      for (Path mp : List.of(a, b, c)) {
        vmafs("mount", archive.toString(), mp.toString()).ok();
      }
      // one bad mount point among them: the others are still unmounted, the exit code is 5
      Path notMounted = Files.createDirectories(dir.resolve("not-mounted"));
      Run.Result r = vmafs("umount", "--json", a.toString(), notMounted.toString(), b.toString()).exit(5);
      JsonNode o = JsonSchema.of("umount").check(r.out());
      assertEquals(2, o.get("unmounted").size());
      assertEquals(notMounted.toString(), o.get("failed").get(0).get("mountpoint").asText());
      assertTrue(o.get("failed").get(0).get("error").asText().contains("not a mount point"));
      assertFalse(Mounted.isMounted(a) || Mounted.isMounted(b));
      assertTrue(Mounted.isMounted(c));
      assertTrue(Files.isDirectory(a), "a mount point the user made stays");

      // --all means every vmafs mount of the machine: run it in a private mount namespace where
      // every other vmafs mount (other tests, other users of this machine) is detached first, so it
      // can only ever see c. Detaching copies inside the namespace leaves the host's mounts alone.
      String launcher = String.join(" ", Run.vmafsCommand()).trim();
      String script = String.join("\n",
          "awk '$0 ~ / - fuse\\.vmafs / && $5 != \"" + c + "\" {print $5}' /proc/self/mountinfo"
              + " | while read -r m; do umount -l \"$(printf '%b' \"$m\")\"; done",
          launcher + " umount --all --json");
      Run.Result all = Run.exec(List.of("unshare", "--mount", "--propagation", "private", "bash",
          "-euc", script), null, env);
      assertEquals(0, all.code(), all.out() + all.err());
      JsonNode allJson = JsonSchema.of("umount").check(all.out());
      assertEquals(List.of(c.toString()), allJson.get("unmounted").findValuesAsText("mountpoint"),
          all.out());
      // c was unmounted in the namespace only; its mount on the host goes in the finally below.
      vmafs("umount", "--all", a.toString()).exit(2);
      vmafs("umount").exit(2);
    } finally {
      for (Path mp : List.of(a, b, c)) {
        new Mounted.Cleanup(mp).close();
      }
    }
  }

  /**
   * mount(8) and an fstab line, through mount.fuse3, with the checkout's launcher on mount's PATH
   * as README tells developers to link it; the generic options of the issue; rw refused.
   */
  @Test
  void mountAndFstabThroughMountFuse3() throws IOException {
    Path spaced = Files.copy(archive, dir.resolve("with space " + NAME + ".vma"));
    Path mnt = Files.createDirectories(dir.resolve("mnt-fstab"));
    Path fstab = dir.resolve("fstab");
    Files.writeString(fstab, spaced.toString().replace(" ", "\\040") + " " + mnt
        + " fuse.vmafs ro,nofail,allow_other,noauto,user,_netdev,x-systemd.automount,noexec,nosuid,nodev 0 0\n");
    String script = String.join("\n",
        "mount -t tmpfs tmpfs /usr/local/bin",
        "ln -s '" + Run.ROOT.resolve("vmafs") + "' /usr/local/bin/vmafs",
        "mount --bind '" + fstab + "' /etc/fstab",
        "trap 'fusermount3 -u -z " + mnt + " 2>/dev/null || true' EXIT",
        "info() { grep \" $1 \" /proc/self/mountinfo || true; }",
        // by hand, as the issue writes it
        "mount -t fuse.vmafs '" + archive + "' '" + mnt + "' -o ro,allow_other",
        "echo \"manual: $(info " + mnt + ")\"",
        "cmp <(head -c 1M '" + mnt + "/disk-drive-scsi0.raw') <(head -c 1M '" + dir.resolve("disk0.raw") + "')",
        "umount '" + mnt + "'",
        "echo \"after umount: $(info " + mnt + ")\"",
        // the fstab line: mount MOUNTPOINT
        "mount '" + mnt + "'",
        "echo \"fstab: $(info " + mnt + ")\"",
        "umount '" + mnt + "'",
        // rw (what mount passes without ro) is refused, clearly
        "if mount -t fuse.vmafs '" + archive + "' '" + mnt + "' 2>&1; then echo rw-mounted; fi",
        "echo \"after rw: $(info " + mnt + ")\"");
    Run.Result r = Run.exec(List.of("unshare", "--mount", "--propagation", "private", "bash", "-euc", script), null, env);
    assertEquals(0, r.code(), r.out() + r.err());
    String out = r.out();
    assertTrue(out.matches("(?s).*manual: \\S+ \\S+ \\S+ / " + mnt + " ro,nosuid,nodev\\S* .* fuse\\.vmafs " + archive + " .*"), out);
    assertTrue(out.contains("after umount: \n"), out);
    assertTrue(out.matches("(?s).*fstab: \\S+ \\S+ \\S+ / " + mnt + " ro,nosuid,nodev,noexec\\S* .* fuse\\.vmafs "
        + spaced.toString().replace(" ", "\\\\040") + " .*"), out);
    assertTrue(out.contains("vmafs mounts are read-only: '-o rw' is refused"), out);
    assertFalse(out.contains("rw-mounted"), out);
    assertTrue(out.contains("after rw: \n"), out);
    assertFalse(Mounted.isMounted(mnt));
  }

  /** The systemd template's ExecStart, as systemd runs it, and its stop: SIGTERM to the PIDFile's pid. */
  @Test
  void theSystemdTemplateStartsAndStops() throws IOException {
    List<String> unit = Files.readAllLines(Run.ROOT.resolve("packaging/src/deb/examples/vmafs@.service"));
    String exec = unit.stream().filter(l -> l.startsWith("ExecStart=")).findFirst().orElseThrow().substring(10);
    String pidLine = unit.stream().filter(l -> l.startsWith("PIDFile=")).findFirst().orElseThrow().substring(8);
    // %i is the escaped archive path (systemd-escape --path); any name does for the pid file here.
    Path pid = dir.resolve(Path.of(pidLine.replace("%i", "instance")).getFileName());
    String[] argv = exec.replace("%f", archive.toString()).split(" ");
    assertEquals("/usr/bin/vmafs", argv[0]);
    List<String> args = new java.util.ArrayList<>(List.of(argv).subList(1, argv.length));
    args.replaceAll(a -> a.startsWith("--pid-file=") ? "--pid-file=" + pid : a);
    Path mp = dir.resolve(NAME);
    try {
      vmafs(args.toArray(String[]::new)).ok();
      assertTrue(Mounted.isMounted(mp));
      long server = Long.parseLong(Files.readString(pid).trim());
      ProcessHandle.of(server).orElseThrow().destroy(); // systemctl stop: SIGTERM
      waitUntil(() -> !Mounted.isMounted(mp) && !Files.exists(mp) && !Files.exists(pid),
          "SIGTERM unmounts, removes the mount point and the pid file");
    } finally {
      new Mounted.Cleanup(mp).close();
    }
  }

  static void waitUntil(java.util.function.BooleanSupplier condition, String what) {
    for (int i = 0; i < 100 && !condition.getAsBoolean(); i++) {
      Mounted.sleep(100);
    }
    assertTrue(condition.getAsBoolean(), what);
  }
}
