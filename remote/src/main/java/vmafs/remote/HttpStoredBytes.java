package vmafs.remote;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import vmafs.remote.RemoteAccessException.Reason;

/**
 * An archive behind an HTTP(S) URL, read with {@code Range} requests through the JDK's HttpClient.
 *
 * <p>The version is the {@code ETag} of the first answer, else its {@code Last-Modified} date; each
 * later request is conditional on it ({@code If-Match} for a strong ETag,
 * {@code If-Unmodified-Since} for a date) and each answer is compared with it. A server that
 * answers a Range request with the whole body (200) cannot serve random reads: that is an error
 * when the archive is opened, and the body is not downloaded.
 */
public final class HttpStoredBytes extends RemoteStoredBytes {
  private static final Logger log = LoggerFactory.getLogger(HttpStoredBytes.class);
  private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+)");
  private static final Pattern UNSATISFIED = Pattern.compile("bytes \\*/(\\d+)");

  private final HttpClient http;
  private final URI uri;
  private final Validator validator;

  /** What identifies the version: one of the two headers, with the value the first answer had. */
  private record Validator(String header, String value) {
    static Validator of(HttpResponse<?> r) {
      Optional<String> etag = r.headers().firstValue("ETag");
      if (etag.isPresent()) {
        return new Validator("ETag", etag.get());
      }
      return r.headers().firstValue("Last-Modified").map(v -> new Validator("Last-Modified", v)).orElse(null);
    }

    String tag() {
      return header + " " + value;
    }

    /** If-Match needs a strong ETag; a weak one (W/"…") is only compared in the answers. */
    void condition(HttpRequest.Builder b) {
      if (header.equals("ETag") && !value.startsWith("W/")) {
        b.header("If-Match", value);
      } else if (header.equals("Last-Modified")) {
        b.header("If-Unmodified-Since", value);
      }
    }

    boolean matches(HttpResponse<?> r) {
      return r.headers().firstValue(header).map(value::equals).orElse(true);
    }
  }

  private HttpStoredBytes(Opened opened, RemoteOptions options, TransferCounters counters, Retrier retrier,
      HttpClient http, URI uri, Validator validator) {
    super(opened, options, counters, retrier);
    this.http = http;
    this.uri = uri;
    this.validator = validator;
  }

  /**
   * Opens the URL: one Range request for the first piece learns the size and the version.
   *
   * @throws RemoteAccessException naming the URL: not found, access denied, Range ignored, network
   *     down (after bounded retries)
   */
  public static HttpStoredBytes open(URI uri, RemoteOptions options) throws IOException {
    String name = ArchiveLocation.displayName(uri);
    HttpClient http = HttpClient.newBuilder()
        .connectTimeout(options.connectTimeout())
        .followRedirects(HttpClient.Redirect.NORMAL)
        // One request per connection at a time, as the fetch threads expect; HTTP/2's upgrade
        // dance on http:// URLs confuses some servers.
        .version(HttpClient.Version.HTTP_1_1)
        .build();
    TransferCounters counters = new TransferCounters();
    Retrier retrier = new Retrier(options.retry(), counters);
    Validator[] seen = new Validator[1];
    Opened opened = retrier.run(name, () -> first(http, uri, name, options, counters, seen));
    if (seen[0] == null) {
      log.warn("{}: the server sends neither ETag nor Last-Modified; a replaced file cannot be detected"
          + " unless its size changed", name);
    }
    return new HttpStoredBytes(opened, options, counters, retrier, http, uri, seen[0]);
  }

  private static Opened first(HttpClient http, URI uri, String name, RemoteOptions o, TransferCounters counters,
      Validator[] seen) throws IOException {
    long t0 = System.nanoTime();
    String range = "bytes=0-" + (o.pieceSize() - 1);
    HttpRequest req = HttpRequest.newBuilder(uri).GET().timeout(o.readTimeout()).header("Range", range).build();
    HttpResponse<InputStream> r = send(http, req, name, counters);
    try (InputStream body = IdleGuard.guard(r.body(), o.readTimeout())) {
      int status = r.statusCode();
      if (status == 416) {
        long total = unsatisfiedTotal(name, r);
        if (total != 0) {
          throw new RemoteAccessException(name, Reason.BAD_RESPONSE, "the server refused the range " + range
              + " of a file of " + total + " bytes");
        }
        seen[0] = Validator.of(r);
        return new Opened(name, 0, tag(seen[0], 0), null);
      }
      failUnless206(name, r, range);
      long[] cr = contentRange(name, r);
      if (cr[0] != 0) {
        throw new RemoteAccessException(name, Reason.BAD_RESPONSE, "asked for " + range + ", got "
            + r.headers().firstValue("Content-Range").orElse(""));
      }
      long total = cr[2];
      int len = (int) Math.min(o.pieceSize(), total);
      if (cr[1] != len - 1) {
        throw new RemoteAccessException(name, Reason.BAD_RESPONSE, "asked for " + range + ", got "
            + r.headers().firstValue("Content-Range").orElse(""));
      }
      byte[] first = new byte[len];
      Responses.readExactly(name, body, first, len, counters);
      seen[0] = Validator.of(r);
      log.info("GET {} {}: 206, {} bytes of {}, {}, {} ms", name, range, len, total,
          seen[0] == null ? "no version header" : seen[0].tag(), (System.nanoTime() - t0) / 1_000_000);
      return new Opened(name, total, tag(seen[0], total), first);
    }
  }

  private static String tag(Validator v, long size) {
    return v != null ? v.tag() : "size " + size;
  }

  @Override
  void fetchRange(long start, byte[] dst, int len) throws IOException {
    long t0 = System.nanoTime();
    String range = "bytes=" + start + "-" + (start + len - 1);
    HttpResponse<InputStream> r = send(http, request(range), name(), counters);
    try (InputStream body = IdleGuard.guard(r.body(), options.readTimeout())) {
      checkRange(r, range, start, start + len - 1);
      Responses.readExactly(name(), body, dst, len, counters);
      if (body.read() >= 0) {
        throw new RemoteAccessException(name(), Reason.BAD_RESPONSE, "the answer to " + range
            + " is longer than asked");
      }
      logRequest("GET", range, "206", len, t0);
    }
  }

  @Override
  InputStream fetchStream(long start) throws IOException {
    long t0 = System.nanoTime();
    String range = "bytes=" + start + "-";
    HttpResponse<InputStream> r = send(http, request(range), name(), counters);
    InputStream body = IdleGuard.guard(r.body(), options.readTimeout());
    try {
      checkRange(r, range, start, size() - 1);
    } catch (IOException | RuntimeException e) {
      body.close();
      throw e;
    }
    logRequest("GET", range, "streaming", size() - start, t0);
    return body;
  }

  private HttpRequest request(String range) {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri).GET().timeout(options.readTimeout()).header("Range", range);
    if (validator != null) {
      validator.condition(b);
    }
    return b.build();
  }

  private void checkRange(HttpResponse<?> r, String range, long start, long end) throws RemoteAccessException {
    if (r.statusCode() == 412 || r.statusCode() == 416) {
      throw changedError();
    }
    failUnless206(name(), r, range);
    long[] cr = contentRange(name(), r);
    if (cr[2] != size() || (validator != null && !validator.matches(r))) {
      throw changedError();
    }
    if (cr[0] != start || cr[1] != end) {
      throw new RemoteAccessException(name(), Reason.BAD_RESPONSE, "asked for " + range + ", got "
          + r.headers().firstValue("Content-Range").orElse(""));
    }
  }

  private RemoteAccessException changedError() {
    return new RemoteAccessException(name(), Reason.CHANGED, "the file changed while it was being read (its "
        + (validator != null ? validator.header() : "size") + " is not the one it had when opened)");
  }

  private static void failUnless206(String name, HttpResponse<?> r, String range) throws RemoteAccessException {
    int s = r.statusCode();
    if (s == 206) {
      return;
    }
    if (s == 200) {
      throw new RemoteAccessException(name, Reason.RANGE_IGNORED, "the server ignores Range requests (it answered"
          + " '" + range + "' with the whole file, 200 OK); vmafs reads archives in ranges and needs a server that"
          + " answers them with 206 (nginx, Apache, S3 and most CDNs do)");
    }
    if (s == 404 || s == 410) {
      throw new RemoteAccessException(name, Reason.NOT_FOUND, "not found (HTTP " + s + ")");
    }
    if (s == 401 || s == 403) {
      throw new RemoteAccessException(name, Reason.ACCESS_DENIED, "access denied (HTTP " + s + ")");
    }
    if (s >= 500 || s == 429 || s == 408) {
      throw new RemoteAccessException(name, Reason.SERVER_ERROR, "the server failed (HTTP " + s + ")");
    }
    throw new RemoteAccessException(name, Reason.BAD_RESPONSE, "unexpected answer HTTP " + s + " to a Range request");
  }

  private static long[] contentRange(String name, HttpResponse<?> r) throws RemoteAccessException {
    String cr = r.headers().firstValue("Content-Range").orElse(null);
    Matcher m = cr == null ? null : CONTENT_RANGE.matcher(cr.trim());
    if (m == null || !m.matches()) {
      throw new RemoteAccessException(name, Reason.BAD_RESPONSE, cr == null
          ? "a 206 answer without Content-Range" : "unusable Content-Range '" + cr + "'");
    }
    try {
      long[] v = {Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(3))};
      if (v[0] > v[1] || v[1] >= v[2]) {
        throw new NumberFormatException();
      }
      return v;
    } catch (NumberFormatException e) {
      throw new RemoteAccessException(name, Reason.BAD_RESPONSE, "unusable Content-Range '" + cr + "'");
    }
  }

  private static long unsatisfiedTotal(String name, HttpResponse<?> r) throws RemoteAccessException {
    String cr = r.headers().firstValue("Content-Range").orElse("");
    Matcher m = UNSATISFIED.matcher(cr.trim());
    if (!m.matches()) {
      throw new RemoteAccessException(name, Reason.BAD_RESPONSE, "the server refused the first range (HTTP 416)");
    }
    return Long.parseLong(m.group(1));
  }

  private static HttpResponse<InputStream> send(HttpClient http, HttpRequest req, String name,
      TransferCounters counters) throws IOException {
    counters.request();
    try {
      return http.send(req, BodyHandlers.ofInputStream());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException(name + ": interrupted");
    } catch (IOException e) {
      throw Responses.network(name, req.uri().getScheme() + "://" + req.uri().getAuthority(), e);
    }
  }

  @Override
  void closeTransport() {
    // HttpClient has no close() before Java 21; its idle connections time out on their own.
  }
}
