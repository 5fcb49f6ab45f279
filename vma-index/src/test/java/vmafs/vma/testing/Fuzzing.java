package vmafs.vma.testing;

import com.sun.management.OperatingSystemMXBean;
import com.sun.management.ThreadMXBean;
import java.io.EOFException;
import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.BufferUnderflowException;
import java.nio.file.Files;
import java.nio.file.Path;
import vmafs.vma.VmaException;
import vmafs.vma.index.StaleIndexException;

/**
 * What counts as a finding when a parser, codec or decoder is fed hostile bytes (docs/fuzzing.md),
 * checked around one execution of a fuzz target:
 *
 * <ul>
 *   <li>an exception other than the documented ones ({@link #undocumented}): a {@link
 *       VmaException} (malformed, incomplete or corrupt archive) or {@link StaleIndexException},
 *       whatever caused it, since the code classified the input; or a plain {@link IOException}
 *       (e.g. {@link EOFException}) with a message, unless an unchecked exception hides under it
 *       (a bug wrapped into an I/O error is still a bug), the one exception being a {@link
 *       BufferUnderflowException} under a source map's "truncated" error;
 *   <li>heap allocated on the calling thread, or direct memory retained, past the {@link Budget}
 *       for the input's size;
 *   <li>more than a second of process CPU time (so that other builds on the machine do not make
 *       a slow run look like a finding; Jazzer's own {@code -timeout} catches hangs).
 * </ul>
 *
 * A finding is thrown as an {@link AssertionError}: Jazzer saves the input and fails the run.
 */
public final class Fuzzing {
  private static final ThreadMXBean THREADS = (ThreadMXBean) ManagementFactory.getThreadMXBean();
  private static final OperatingSystemMXBean OS =
      (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
  private static final BufferPoolMXBean DIRECT = ManagementFactory
      .getPlatformMXBeans(BufferPoolMXBean.class).stream()
      .filter(b -> b.getName().equals("direct")).findFirst().orElseThrow();
  private static final long CPU_LIMIT_NANOS = 1_000_000_000L;
  /** {@code -Dvmafs.fuzz.debug=true} prints why each input was rejected (to check seeds). */
  private static final boolean DEBUG = Boolean.getBoolean("vmafs.fuzz.debug");
  /**
   * Jazzer's instrumentation allocates on the fuzzed thread too, so while fuzzing the budget is
   * this much larger; a saved finding is re-checked exactly when its input is replayed.
   */
  private static final int FUZZING_SLACK = System.getenv("JAZZER_FUZZ") != null ? 8 : 1;

  private Fuzzing() {}

  /**
   * How much one execution may allocate: {@code fixedBytes} (buffers every run needs) plus {@code
   * perByte} for each byte the input really holds (for a decoder: compressed input plus what it
   * decoded).
   */
  public record Budget(long fixedBytes, long perByte) {
    /** For parsers of headers, indexes and maps: what they keep is a small multiple of the input. */
    public static final Budget PARSER = new Budget(8L << 20, 64);
    /** For decode passes: 1 MiB input buffers, a few blocks in flight, the decoded bytes kept. */
    public static final Budget DECODER = new Budget(48L << 20, 16);

    long limit(long bytes) {
      return fixedBytes + perByte * bytes;
    }
  }

  /** A fuzz target's body; a documented exception ends it normally. */
  @FunctionalInterface
  public interface Body {
    void run() throws Exception;
  }

  /** Supplies, after the run, how many bytes the input turned out to hold (e.g. decoded bytes). */
  @FunctionalInterface
  public interface Size {
    long bytes();
  }

  /** Runs {@code body} on {@code input} bytes and throws an AssertionError for every finding. */
  public static void check(long input, Budget budget, Body body) {
    check(() -> input, budget, body);
  }

  public static void check(Size size, Budget budget, Body body) {
    String overrun = measured(size, budget, body);
    if (overrun != null && measured(size, budget, body) != null) {
      // The first run of a code path in a JVM also pays for class loading and compilation, so an
      // overrun counts only if it repeats: the targets are deterministic.
      throw new AssertionError("finding: " + overrun);
    }
  }

  /** Runs {@code body} once; throws for an undocumented outcome, returns an overrun or null. */
  private static String measured(Size size, Budget budget, Body body) {
    long heap0 = THREADS.getCurrentThreadAllocatedBytes();
    long direct0 = DIRECT.getMemoryUsed();
    long cpu0 = OS.getProcessCpuTime();
    try {
      body.run();
    } catch (AssertionError finding) {
      throw finding; // a check of the target's own (wrong bytes): already a finding
    } catch (Throwable t) {
      String why = undocumented(t);
      if (DEBUG) {
        System.err.println("fuzz input rejected: " + t);
      }
      if (why != null) {
        throw new AssertionError("finding: " + why, t);
      }
    }
    long heap = THREADS.getCurrentThreadAllocatedBytes() - heap0;
    long direct = DIRECT.getMemoryUsed() - direct0;
    long cpu = OS.getProcessCpuTime() - cpu0;
    long limit = budget.limit(size.bytes()) * FUZZING_SLACK;
    if (heap > limit) {
      return heap + " bytes of heap allocated for an input of " + size.bytes() + " bytes (budget "
          + limit + ")";
    }
    if (direct > limit) {
      return direct + " bytes of direct memory retained for an input of " + size.bytes()
          + " bytes (budget " + limit + ")";
    }
    if (cpu > CPU_LIMIT_NANOS) {
      return "one input took " + cpu / 1_000_000 + " ms of CPU";
    }
    return null;
  }

  /** Why {@code t} is not a documented outcome for bad input, or null if it is. */
  public static String undocumented(Throwable t) {
    if (t instanceof VmaException || t instanceof StaleIndexException) {
      return null;
    }
    if (!(t instanceof IOException)) {
      return "undocumented " + t;
    }
    if (t.getMessage() == null || t.getMessage().isBlank()) {
      return "I/O error without a message: " + t;
    }
    for (Throwable c = t.getCause(); c != null; c = c.getCause()) {
      boolean truncatedMap = c instanceof BufferUnderflowException
          && t.getMessage().startsWith("source map is truncated");
      if ((c instanceof RuntimeException || c instanceof Error) && !truncatedMap) {
        return "I/O error hiding " + c + ": " + t.getMessage();
      }
    }
    return null;
  }

  /**
   * A scratch directory for targets that need files (the decoders open paths): in memory where the
   * machine has {@code /dev/shm}, removed when the JVM exits.
   */
  public static Path scratchDir(String name) {
    try {
      Path shm = Path.of("/dev/shm");
      Path dir = Files.isDirectory(shm) && Files.isWritable(shm)
          ? Files.createTempDirectory(shm, "vmafs-fuzz-" + name)
          : Files.createTempDirectory("vmafs-fuzz-" + name);
      Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(dir)));
      return dir;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static void deleteTree(Path dir) {
    try (var all = Files.walk(dir)) {
      all.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // best effort at exit
    }
  }
}
