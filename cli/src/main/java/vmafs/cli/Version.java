package vmafs.cli;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import picocli.CommandLine;
import vmafs.fs.FuseMounts;
import vmafs.fs.MountOptions;

/**
 * {@code vmafs --version}: vmafs and every component a bug report needs, each asked at run time
 * where the component can say (the FUSE library that a mount would bind, the libzstd inside
 * zstd-jni), else read from the component's own Maven metadata inside the jar.
 */
final class Version implements CommandLine.IVersionProvider {
  static String version() {
    return properties("/vmafs-version.properties").getProperty("version", "unknown");
  }

  @Override
  public String[] getVersion() {
    List<String> lines = new ArrayList<>();
    lines.add("vmafs " + version() + location());
    lines.add("Java " + System.getProperty("java.runtime.version", System.getProperty("java.version"))
        + " (" + System.getProperty("java.vendor") + ", " + System.getProperty("java.home") + ")");
    lines.add("FUSE " + fuse());
    lines.add("libzstd " + zstd());
    lines.add("aircompressor " + mavenVersion("io.airlift", "aircompressor"));
    lines.add("jnr-ffi " + mavenVersion("com.github.jnr", "jnr-ffi"));
    lines.add("picocli " + CommandLine.VERSION);
    return lines.toArray(String[]::new);
  }

  /** Where the running jar is: which installation a report comes from. */
  private static String location() {
    try {
      Path jar = Path.of(Version.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      return " (" + jar + ")";
    } catch (URISyntaxException | RuntimeException e) {
      return "";
    }
  }

  private static String fuse() {
    try {
      return FuseMounts.libraryVersion(MountOptions.Backend.AUTO);
    } catch (RuntimeException e) {
      return "unavailable: " + e.getMessage();
    }
  }

  /**
   * zstd-jni carries its own libzstd, and its version is libzstd's with a packaging suffix
   * ({@code 1.5.7-6} is libzstd 1.5.7). Loading the native part proves it works on this machine.
   */
  private static String zstd() {
    try {
      com.github.luben.zstd.util.Native.load();
      String jni = com.github.luben.zstd.util.ZstdVersion.VERSION;
      return jni.replaceFirst("-\\d+$", "") + " (zstd-jni " + jni + ")";
    } catch (LinkageError | RuntimeException e) {
      return "unavailable: " + e;
    }
  }

  private static String mavenVersion(String group, String artifact) {
    return properties("/META-INF/maven/" + group + "/" + artifact + "/pom.properties")
        .getProperty("version", "unknown");
  }

  private static Properties properties(String resource) {
    Properties p = new Properties();
    try (InputStream in = Version.class.getResourceAsStream(resource)) {
      if (in != null) {
        p.load(in);
      }
    } catch (IOException e) {
      // reported as "unknown"
    }
    return p;
  }
}
