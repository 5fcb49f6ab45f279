package vmafs.remote.testing;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.HandlerWrapper;
import org.eclipse.jetty.server.handler.ResourceHandler;

/**
 * A real HTTP file server for tests: Jetty's ResourceHandler over a directory, on 127.0.0.1 and a
 * free port, with Range support (or, as some servers do, without: whole bodies with 200 OK), with
 * ETags or with Last-Modified only. It counts the requests it serves and their Range headers.
 */
public final class HttpFileServer implements AutoCloseable {
  /** How the server answers. */
  public enum Mode {
    /** Ranges with 206 and ETags: what nginx and Apache do. */
    RANGES,
    /** Ranges, but only Last-Modified to tell versions apart. */
    RANGES_NO_ETAG,
    /** No Range support: every GET gets the whole file with 200. */
    IGNORES_RANGE
  }

  private final Server server;
  private final AtomicInteger requests = new AtomicInteger();
  private final List<String> ranges = new ArrayList<>();

  private HttpFileServer(Path dir, Mode mode) throws Exception {
    server = new Server();
    ServerConnector http = new ServerConnector(server);
    http.setHost("127.0.0.1");
    http.setPort(0);
    server.addConnector(http);
    ResourceHandler files = new ResourceHandler();
    files.setResourceBase(dir.toString());
    files.setDirectoriesListed(false);
    files.setEtags(mode != Mode.RANGES_NO_ETAG);
    HandlerWrapper counting = new HandlerWrapper() {
      @Override
      public void handle(String target, Request base, HttpServletRequest req, HttpServletResponse resp)
          throws IOException, jakarta.servlet.ServletException {
        requests.incrementAndGet();
        String r = req.getHeader("Range");
        synchronized (ranges) {
          ranges.add(r == null ? "" : r);
        }
        super.handle(target, base, mode == Mode.IGNORES_RANGE ? withoutRange(req) : req, resp);
      }
    };
    counting.setHandler(files);
    server.setHandler(counting);
    server.start();
  }

  /** The request as a server without Range support sees it. */
  private static HttpServletRequest withoutRange(HttpServletRequest req) {
    return new HttpServletRequestWrapper(req) {
      @Override
      public String getHeader(String name) {
        return "Range".equalsIgnoreCase(name) || "If-Range".equalsIgnoreCase(name) ? null : super.getHeader(name);
      }

      @Override
      public java.util.Enumeration<String> getHeaders(String name) {
        return "Range".equalsIgnoreCase(name) || "If-Range".equalsIgnoreCase(name)
            ? java.util.Collections.emptyEnumeration() : super.getHeaders(name);
      }
    };
  }

  public static HttpFileServer start(Path dir, Mode mode) throws Exception {
    return new HttpFileServer(dir, mode);
  }

  public int port() {
    return ((ServerConnector) server.getConnectors()[0]).getLocalPort();
  }

  /** The URL of a file in the served directory. */
  public URI url(String file) {
    return URI.create("http://127.0.0.1:" + port() + "/" + file);
  }

  public int requests() {
    return requests.get();
  }

  /** The Range headers of the requests served ("" for none). */
  public List<String> ranges() {
    synchronized (ranges) {
      return new ArrayList<>(ranges);
    }
  }

  public void resetCounts() {
    requests.set(0);
    synchronized (ranges) {
      ranges.clear();
    }
  }

  @Override
  public void close() throws Exception {
    server.stop();
  }
}
