package vmafs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import vmafs.remote.RemoteOptions;
import vmafs.remote.testing.S3Server;
import vmafs.vma.io.StoredBytes;

/**
 * The remote-archive options and ARCHIVE resolution, through the real command line and its error
 * handler, against a real S3 server. (No command takes URLs yet; a probe command stands in for one.)
 */
class RemoteArchiveOptionsTest {
  @TempDir static Path tmp;
  static S3Server s3;

  @Command(name = "probe")
  static final class Probe implements Callable<Integer> {
    @Mixin RemoteArchiveOptions remote;

    @Parameters(index = "0") String archive;

    @Override
    public Integer call() throws Exception {
      try (StoredBytes b = remote.open(archive)) {
        System.out.println(b.size());
      }
      return ExitCodes.OK;
    }
  }

  @BeforeAll
  static void start() throws Exception {
    Path creds = Files.writeString(tmp.resolve("credentials"), "[test]\naws_access_key_id = " + S3Server.ACCESS_KEY
        + "\naws_secret_access_key = " + S3Server.SECRET_KEY + "\n");
    Path config = Files.writeString(tmp.resolve("config"), "[profile test]\nregion = us-east-1\n");
    System.setProperty("aws.sharedCredentialsFile", creds.toString());
    System.setProperty("aws.configFile", config.toString());
    System.setProperty("aws.disableEc2Metadata", "true");
    s3 = S3Server.start(Files.createDirectories(tmp.resolve("store")));
    s3.createBucket("dumps");
    s3.put("dumps", "vzdump-qemu-100.vma", new byte[300_000]);
  }

  @AfterAll
  static void stop() throws Exception {
    if (s3 != null) {
      s3.close();
    }
  }

  record Run(int code, String err) {}

  static Run probe(String... args) {
    CommandLine cl = Main.commandLine();
    cl.addSubcommand("probe", new Probe());
    StringWriter err = new StringWriter();
    cl.setErr(new PrintWriter(err, true));
    return new Run(cl.execute(args), err.toString());
  }

  @Test
  void optionsReachRemoteOptions() {
    RemoteArchiveOptions o = new RemoteArchiveOptions();
    new CommandLine(o).parseArgs("--endpoint-url", "http://127.0.0.1:9000", "--profile", "p", "--path-style",
        "--piece-size", "4M");
    RemoteOptions r = o.options();
    assertEquals(URI.create("http://127.0.0.1:9000"), r.endpoint());
    assertEquals("p", r.profile());
    assertTrue(r.pathStyle());
    assertEquals(4 << 20, r.pieceSize());
  }

  @Test
  void anS3ArchiveOpensWithEndpointAndProfile() {
    Run ok = probe("probe", "--endpoint-url", s3.endpoint().toString(), "--profile", "test",
        "s3://dumps/vzdump-qemu-100.vma");
    assertEquals(0, ok.code(), ok.err());
  }

  @Test
  void remoteFailuresAreOneLineEnvironmentErrors() {
    Run missing = probe("probe", "--endpoint-url", s3.endpoint().toString(), "--profile", "test",
        "s3://dumps/nothing.vma");
    assertEquals(ExitCodes.ENVIRONMENT, missing.code(), missing.err());
    assertEquals("vmafs: error: s3://dumps/nothing.vma: no such key (NoSuchKey)\n", missing.err());
  }

  @Test
  void badArgumentsAreUsageErrors() {
    Run scheme = probe("probe", "ftp://h/x.vma");
    assertEquals(ExitCodes.USAGE, scheme.code(), scheme.err());
    assertTrue(scheme.err().startsWith("vmafs: error: ftp://h/x.vma: unsupported URL scheme 'ftp'"), scheme.err());
    Run piece = probe("probe", "--piece-size", "8K", "s3://dumps/x");
    assertEquals(ExitCodes.USAGE, piece.code(), piece.err());
    assertEquals("vmafs: error: --piece-size 8K: must be between 64K and 16M\n", piece.err());
    Run endpoint = probe("probe", "--endpoint-url", "ftp://x", "s3://dumps/x");
    assertEquals(ExitCodes.USAGE, endpoint.code(), endpoint.err());
    assertFalse(endpoint.err().contains("Exception"), endpoint.err());
  }

  @Test
  void localPathsAreCheckedAsBefore() {
    Run none = probe("probe", tmp.resolve("absent.vma").toString());
    assertEquals(ExitCodes.ENVIRONMENT, none.code());
    assertEquals("vmafs: error: " + tmp.resolve("absent.vma") + ": no such file\n", none.err());
  }
}
