package vmafs.fuse3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import vmafs.fs.FuseException;

/**
 * The start-up check against the libfuse3 this machine has (or the one {@code -Dvmafs.libfuse3}
 * names: docs/fuse.md §9 runs the whole module that way against 3.17 and 3.18).
 */
class Fuse3LibraryTest {
  @Test
  void theCheckedLibraryIsTheOnlyLibfuse3InTheProcess() throws IOException {
    Fuse3Library lib = Fuse3Library.get();
    int[] v = Fuse3Abi.decodeVersion(lib.fuse.fuse_version());
    assertEquals(Fuse3Abi.of(v[0], v[1]), lib.abi);
    assertEquals(lib.name + " " + lib.fuse.fuse_pkgversion(), lib.describe());
    assertTrue(lib.describe().matches("\\S*libfuse3\\.so\\.[34] 3\\.\\d+\\.\\d+.*"), lib.describe());

    Set<String> mapped = new TreeSet<>();
    for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
      int slash = line.indexOf('/');
      if (slash >= 0 && line.substring(slash).matches(".*/libfuse3\\.so[^/]*")) {
        mapped.add(line.substring(slash));
      }
    }
    assertEquals(1, mapped.size(), "libfuse3 files mapped: " + mapped);
    String configured = System.getProperty(Fuse3Library.LIBRARY_PROPERTY,
        System.getenv(Fuse3Library.LIBRARY_ENV));
    if (configured != null) {
      assertEquals(configured.contains("/") ? Path.of(configured).toAbsolutePath().toString()
          : configured, lib.name);
      assertEquals(Path.of(configured).toRealPath().toString(), mapped.iterator().next());
    } else {
      assertEquals(lib.abi.soname, lib.name);
    }
  }

  /**
   * The check that guards the constructor: the other ABI's constructor is not what plain dlsym
   * returns here (3.17 exports fuse_new only as non-default versions; 3.14 has no _fuse_new_31).
   */
  @Test
  void aSymbolThatDoesNotDefaultToTheExpectedVersionIsReported() {
    Fuse3Library lib = Fuse3Library.get();
    assertNull(Fuse3Library.symbolMismatch(lib.libc, lib.name, lib.abi.symbolVersions()));

    Fuse3Abi other = lib.abi == Fuse3Abi.V3_1 ? Fuse3Abi.V3_17 : Fuse3Abi.V3_1;
    String wrong = Fuse3Library.symbolMismatch(lib.libc, lib.name,
        Map.of(other.constructor, other.constructorVersion));
    String expected = lib.abi == Fuse3Abi.V3_1 ? "no _fuse_new_31@FUSE_3.17"
        : "fuse_new does not default to FUSE_3.1";
    assertEquals(expected, wrong);
    // fuse_loop_mt has had three signatures; dlsym returns the 3.12 one on 3.14 and 3.17 alike.
    assertEquals("fuse_loop_mt does not default to FUSE_3.2", Fuse3Library.symbolMismatch(
        lib.libc, lib.name, Map.of("fuse_loop_mt", "FUSE_3.2")));
  }

  @Test
  void missingLibrariesAreNamedWithTheSystemsReason() {
    FuseException e = assertInstanceOf(FuseException.class, Fuse3Library.load(
        List.of("libfuse3.so.97", "libfuse3.so.98"), false, Layout.STAT_X86_64));
    assertTrue(e.getMessage().startsWith("libfuse3 cannot be loaded (install fuse3): "
        + "libfuse3.so.97: cannot open shared object file"), e.getMessage());
    assertTrue(e.getMessage().contains("; libfuse3.so.98: cannot open"), e.getMessage());
  }

  /** libfuse 2 (installed for the other backend) opens, but is not libfuse3. */
  @Test
  void aLibraryThatIsNotLibfuse3IsRefused() {
    FuseException e = assertInstanceOf(FuseException.class,
        Fuse3Library.load(List.of("libfuse.so.2"), true, Layout.STAT_X86_64));
    assertTrue(e.getMessage().startsWith("libfuse.so.2 is not a usable libfuse3: "),
        e.getMessage());
  }
}
