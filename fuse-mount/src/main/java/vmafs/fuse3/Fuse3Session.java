package vmafs.fuse3;

import java.lang.ref.Reference;
import java.nio.file.Path;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import vmafs.fs.FuseException;
import vmafs.fs.ReadOnlyFs;
import vmafs.fuse.FuseSession;
import vmafs.fuse.Fusermount;
import vmafs.fuse.MountArgs;

/**
 * A libfuse3 session whose request loop runs on Java platform threads ("loop mode B" of
 * docs/fuse.md §3). libfuse's own loops would call into Java from native threads, which jffi
 * attaches and detaches around each of their first 1000 callbacks.
 *
 * <p>The thread that calls {@link #run} mounts, serves as the first worker, and after all workers
 * have seen the connection end, unmounts and destroys: every libfuse teardown call happens on that
 * one thread, after no other thread can be inside libfuse.
 *
 * <p>The pool is elastic: a read may block for a long time (a cold decode, or a range the index
 * pass has not reached yet), and with a fixed pool a few such reads would leave no thread to
 * answer a {@code stat} or a read that could be served at once. Whenever a worker takes a request
 * and no other worker is left waiting on {@code /dev/fuse}, it starts one more (up to {@link
 * #MAX_THREADS}); the extra workers end again once enough others are idle.
 */
public final class Fuse3Session implements FuseSession {
  private static final Logger log = LoggerFactory.getLogger(Fuse3Session.class);
  private static final int EINTR = 4;
  /**
   * Requests of up to 1 MiB get through libfuse (256 pages, in 3.14 as in 3.17 and 3.18); the bdi
   * readahead is what limits them.
   */
  private static final int READ_AHEAD_KB = 1024;
  /**
   * Most request threads at once. Each holds one receive buffer (~1 MiB of native memory), and the
   * kernel's own queue of pending requests is what bounds real concurrency beyond this.
   */
  static final int MAX_THREADS = 64;

  private final ReadOnlyFs fs;
  private final Path mountpoint;
  private final MountArgs args;
  private final int threads;
  private final Fuse3Library lib;
  /** Workers blocked in (or about to enter) fuse_session_receive_buf. */
  private final AtomicInteger idle = new AtomicInteger();
  /** Workers alive, the session thread included. */
  private final AtomicInteger live = new AtomicInteger();
  /** Every worker started besides the session thread, for the final join. */
  private final Queue<Thread> started = new ConcurrentLinkedQueue<>();

  /**
   * @throws FuseException if libfuse3 is missing or fails the start-up check
   */
  public Fuse3Session(ReadOnlyFs fs, Path mountpoint, MountArgs args, int threads) {
    this.lib = Fuse3Library.get();
    this.fs = fs;
    this.mountpoint = mountpoint;
    this.args = args;
    this.threads = threads;
  }

  /** Whether libfuse3 can be used here; the reason is logged when not. */
  public static boolean isUsable() {
    String reason = unusableReason();
    if (reason != null) {
      log.info("libfuse3 backend unavailable: {}", reason);
    }
    return reason == null;
  }

  /** Why libfuse3 cannot be used here, or null if it can. */
  public static String unusableReason() {
    try {
      Fuse3Library.get();
      return null;
    } catch (FuseException e) {
      return e.getMessage();
    }
  }

  /**
   * The loaded library and its version, e.g. {@code "libfuse3.so.4 3.17.2"}, or the path given
   * in {@code vmafs.libfuse3} instead of the soname.
   *
   * @throws FuseException if libfuse3 cannot be used here
   */
  public static String libraryVersion() {
    return Fuse3Library.get().describe();
  }

  @Override
  public void run(Runnable connected) {
    Fuse3Operations ops = new Fuse3Operations(fs, lib, args.maxRead(), args.directIo(), connected);
    // argv[0] is a program name; the mount point goes to fuse_mount, not into argv.
    List<Pointer> argv = List.of(lib.cString("vmafs"), lib.cString("-o"),
        lib.cString(args.joined()));
    try {
      Pointer fuse = newFuse(ops, argv);
      try {
        if (lib.fuse.fuse_mount(fuse, lib.cString(mountpoint.toString())) != 0) {
          throw new FuseException("cannot mount " + mountpoint
              + " (libfuse3's reason is on stderr)" + args.refusalHint());
        }
        serve(lib.fuse.fuse_get_session(fuse));
        lib.fuse.fuse_unmount(fuse);
      } finally {
        lib.fuse.fuse_destroy(fuse);
      }
    } finally {
      // libfuse holds raw addresses of the table, the closures and argv until fuse_destroy.
      Reference.reachabilityFence(ops);
      Reference.reachabilityFence(argv);
    }
  }

  private Pointer newFuse(Fuse3Operations ops, List<Pointer> argv) {
    Pointer argvArray = Memory.allocateDirect(lib.runtime, (argv.size() + 1) * 8L, true);
    for (int i = 0; i < argv.size(); i++) {
      argvArray.putPointer(i * 8L, argv.get(i));
    }
    Pointer fuseArgs = Memory.allocateDirect(lib.runtime, Layout.ARGS_SIZE, true);
    fuseArgs.putInt(Layout.ARGS_ARGC, argv.size());
    fuseArgs.putPointer(Layout.ARGS_ARGV, argvArray);
    Pointer fuse = lib.fuseNew(fuseArgs, ops.table(), Layout.OPERATIONS_SIZE);
    // The option parser replaced our argv with a malloc'ed copy, whatever the outcome.
    lib.fuse.fuse_opt_free_args(fuseArgs);
    if (fuse == null) {
      throw new FuseException("libfuse3 rejected the mount options " + args.joined()
          + " (its reason is on stderr)");
    }
    return fuse;
  }

  /** Runs the request loop on this thread and {@code threads - 1} more; returns when all ended. */
  private void serve(Pointer session) {
    live.set(1);
    for (int i = 1; i < threads; i++) {
      live.incrementAndGet();
      startWorker(session);
    }
    loop(session, true);
    // A worker is queued before the worker that started it can end, so once the queue is empty
    // every worker that ever ran has been joined.
    for (Thread worker; (worker = started.poll()) != null; ) {
      joinUninterruptibly(worker);
    }
  }

  private void startWorker(Pointer session) {
    Thread worker = new Thread(() -> loop(session, false), "vmafs-fuse3-worker-" + started.size());
    worker.setDaemon(true);
    started.add(worker);
    worker.start();
  }

  /**
   * Receives and processes requests until the connection ends. A worker that is not one of the
   * {@code threads} core workers ends early once at least that many others are idle.
   */
  private void loop(Pointer session, boolean sessionThread) {
    Pointer buf = Memory.allocateDirect(lib.runtime, lib.abi.bufSize, true);
    try {
      while (lib.fuse.fuse_session_exited(session) == 0) {
        idle.incrementAndGet();
        int n = lib.fuse.fuse_session_receive_buf(session, buf);
        int stillIdle = idle.decrementAndGet();
        if (n == -EINTR) {
          continue;
        }
        if (n < 0) {
          log.error("reading from /dev/fuse failed with errno {}; ending the mount {}", -n,
              mountpoint);
          endConnection(session);
        }
        if (n <= 0) {
          break;
        }
        if (stillIdle == 0) {
          growIfNeeded(session);
        }
        lib.fuse.fuse_session_process_buf(session, buf);
        if (!sessionThread && idle.get() >= threads && shrink()) {
          break;
        }
      }
    } finally {
      lib.libc.free(buf.getPointer(Layout.BUF_MEM));
    }
  }

  /** Starts a worker, unless {@link #MAX_THREADS} are running. */
  private void growIfNeeded(Pointer session) {
    int n = live.incrementAndGet();
    if (n > MAX_THREADS) {
      live.decrementAndGet();
      return;
    }
    log.debug("all {} FUSE workers busy; starting another", n - 1);
    startWorker(session);
  }

  /** Whether this worker may end: never below the configured number of threads. */
  private boolean shrink() {
    while (true) {
      int n = live.get();
      if (n <= threads) {
        return false;
      }
      if (live.compareAndSet(n, n - 1)) {
        return true;
      }
    }
  }

  /**
   * Other workers are blocked reading /dev/fuse; only the end of the connection wakes them, and
   * fuse_unmount must wait until they are out of libfuse. A lazy unmount ends the connection.
   */
  private void endConnection(Pointer session) {
    lib.fuse.fuse_session_exit(session);
    try {
      Fusermount.unmount(mountpoint, true);
    } catch (FuseException e) {
      log.error("{}", e.getMessage());
    }
  }

  @Override
  public void mounted(String device) {
    ReadAhead.raise(device, READ_AHEAD_KB);
  }

  private static void joinUninterruptibly(Thread thread) {
    boolean interrupted = false;
    while (true) {
      try {
        thread.join();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
