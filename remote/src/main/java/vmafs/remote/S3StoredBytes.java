package vmafs.remote;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.ProfileCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Exception;
import vmafs.remote.RemoteAccessException.Reason;

/**
 * An archive in S3 or an S3-compatible store, read with ranged GETs through the AWS SDK for Java v2.
 *
 * <p>Credentials and region come from the SDK's default chains (environment, {@code ~/.aws}
 * profiles, container and instance roles), or from one named profile. The endpoint is
 * {@link RemoteOptions#endpoint()}, else {@code AWS_ENDPOINT_URL_S3}, else {@code AWS_ENDPOINT_URL},
 * else AWS's own. With no region anywhere, us-east-1 is used (S3-compatible stores mostly ignore it;
 * AWS answers a wrong region with an error that names the bucket's region, reported as such).
 *
 * <p>The SDK's own retries are off: {@link Retrier} retries, so that retries are counted and bounded
 * in one place.
 */
public final class S3StoredBytes extends RemoteStoredBytes {
  private static final Logger log = LoggerFactory.getLogger(S3StoredBytes.class);
  private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+)");
  private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

  private final S3Client s3;
  private final String bucket;
  private final String key;
  private final String endpointName;

  private S3StoredBytes(Opened opened, RemoteOptions options, TransferCounters counters, Retrier retrier,
      S3Client s3, String bucket, String key, String endpointName) {
    super(opened, options, counters, retrier);
    this.s3 = s3;
    this.bucket = bucket;
    this.key = key;
    this.endpointName = endpointName;
  }

  /**
   * Opens {@code s3://bucket/key}: one ranged GET of the first piece learns the size and the ETag.
   *
   * @throws RemoteAccessException naming the object: missing bucket or key, access denied, expired
   *     credentials, wrong region, network down (after bounded retries)
   */
  public static S3StoredBytes open(String bucket, String key, RemoteOptions options) throws IOException {
    String name = "s3://" + bucket + "/" + key;
    URI endpoint = endpoint(options);
    String endpointName = endpoint != null ? endpoint.toString() : "S3";
    long t0 = System.nanoTime();
    S3Client s3 = client(options, endpoint);
    log.info("S3 client for {} built in {} ms", endpointName, (System.nanoTime() - t0) / 1_000_000);
    TransferCounters counters = new TransferCounters();
    Retrier retrier = new Retrier(options.retry(), counters);
    try {
      Opened opened = retrier.run(name, () -> first(s3, bucket, key, name, endpointName, options, counters));
      return new S3StoredBytes(opened, options, counters, retrier, s3, bucket, key, endpointName);
    } catch (IOException | RuntimeException e) {
      s3.close();
      throw e;
    }
  }

  /** The endpoint requests go to: the option, else the SDK's environment variables, else null (AWS). */
  static URI endpoint(RemoteOptions options) {
    if (options.endpoint() != null) {
      return options.endpoint();
    }
    for (String var : new String[] {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"}) {
      String v = System.getenv(var);
      if (v != null && !v.isBlank()) {
        try {
          return RemoteOptions.endpoint(v);
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(var + "=" + v + ": " + e.getMessage(), e);
        }
      }
    }
    return null;
  }

  /**
   * Virtual-host addressing ({@code bucket.host}) cannot work for an endpoint that is an IP address
   * or {@code localhost}: no DNS name exists for the bucket, so such endpoints get path style.
   */
  static boolean pathStyleFor(URI endpoint) {
    if (endpoint == null) {
      return false;
    }
    String host = endpoint.getHost().toLowerCase(Locale.ROOT);
    return host.equals("localhost") || host.endsWith(".localhost") || IPV4.matcher(host).matches()
        || host.startsWith("[") || host.contains(":");
  }

  /** The client every request of an archive goes through (package-private for the benchmark). */
  static S3Client client(RemoteOptions o, URI endpoint) {
    AwsCredentialsProvider credentials = o.profile() != null
        ? ProfileCredentialsProvider.builder().profileName(o.profile()).build()
        : DefaultCredentialsProvider.builder().build();
    var b = S3Client.builder()
        .httpClient(UrlConnectionHttpClient.builder()
            .connectionTimeout(o.connectTimeout())
            .socketTimeout(o.readTimeout())
            .build())
        .credentialsProvider(credentials)
        .region(region(o.profile()))
        .forcePathStyle(o.pathStyle() || pathStyleFor(endpoint))
        // Ranged GETs carry no whole-object checksum to validate; bytes are checked above (VMA
        // checksums, compressed frame checks) where the format defines them.
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .overrideConfiguration(c -> c.retryStrategy(AwsRetryStrategy.doNotRetry()));
    if (endpoint != null) {
      b.endpointOverride(endpoint);
    }
    return b.build();
  }

  private static Region region(String profile) {
    try {
      var chain = DefaultAwsRegionProviderChain.builder();
      if (profile != null) {
        chain.profileName(profile);
      }
      return chain.build().getRegion();
    } catch (SdkClientException e) {
      log.debug("no region configured ({}); using us-east-1", e.getMessage());
      return Region.US_EAST_1;
    }
  }

  private static Opened first(S3Client s3, String bucket, String key, String name, String endpointName,
      RemoteOptions o, TransferCounters counters) throws IOException {
    long t0 = System.nanoTime();
    counters.request();
    GetObjectRequest req = GetObjectRequest.builder().bucket(bucket).key(key)
        .range("bytes=0-" + (o.pieceSize() - 1)).build();
    try (ResponseInputStream<GetObjectResponse> in = s3.getObject(req)) {
      GetObjectResponse r = in.response();
      long total = totalSize(name, r);
      int len = (int) Math.min(o.pieceSize(), total);
      byte[] first = new byte[len];
      Responses.readExactly(name, in, first, len, counters);
      log.info("GET {} bytes=0-{}: {} bytes of {}, ETag {}, {} ms", name, o.pieceSize() - 1, len, total, r.eTag(),
          (System.nanoTime() - t0) / 1_000_000);
      return new Opened(name, total, r.eTag(), first);
    } catch (S3Exception e) {
      if (e.statusCode() == 416) {
        return empty(s3, bucket, key, name, counters);
      }
      throw S3Errors.of(name, bucket, e);
    } catch (SdkClientException e) {
      throw S3Errors.of(name, endpointName, e);
    }
  }

  /** A ranged GET of an empty object is refused (416); HEAD tells its ETag. */
  private static Opened empty(S3Client s3, String bucket, String key, String name, TransferCounters counters)
      throws IOException {
    counters.request();
    HeadObjectResponse h;
    try {
      h = s3.headObject(b -> b.bucket(bucket).key(key));
    } catch (S3Exception e) {
      throw S3Errors.of(name, bucket, e);
    }
    if (h.contentLength() != 0) {
      throw new RemoteAccessException(name, Reason.BAD_RESPONSE, "the server refused the range 0- of an object of "
          + h.contentLength() + " bytes");
    }
    return new Opened(name, 0, h.eTag(), null);
  }

  private static long totalSize(String name, GetObjectResponse r) throws RemoteAccessException {
    String cr = r.contentRange();
    if (cr == null) {
      // Some stores answer a range that covers the whole object without Content-Range.
      if (r.contentLength() != null) {
        return r.contentLength();
      }
      throw new RemoteAccessException(name, Reason.BAD_RESPONSE, "the answer to a ranged GET has no Content-Range");
    }
    Matcher m = CONTENT_RANGE.matcher(cr);
    if (!m.matches()) {
      throw new RemoteAccessException(name, Reason.BAD_RESPONSE, "unusable Content-Range '" + cr + "'");
    }
    try {
      return Long.parseLong(m.group(3));
    } catch (NumberFormatException e) {
      throw new RemoteAccessException(name, Reason.BAD_RESPONSE, "unusable Content-Range '" + cr + "'");
    }
  }

  @Override
  void fetchRange(long start, byte[] dst, int len) throws IOException {
    long t0 = System.nanoTime();
    String range = "bytes=" + start + "-" + (start + len - 1);
    counters.request();
    GetObjectRequest req = GetObjectRequest.builder().bucket(bucket).key(key).range(range)
        .ifMatch(versionTag()).build();
    try (ResponseInputStream<GetObjectResponse> in = s3.getObject(req)) {
      checkVersion(in.response());
      Responses.readExactly(name(), in, dst, len, counters);
      if (in.read() >= 0) {
        in.abort();
        throw new RemoteAccessException(name(), Reason.BAD_RESPONSE, "the answer to " + range
            + " is longer than asked");
      }
      logRequest("GET", range, "206", len, t0);
    } catch (S3Exception e) {
      throw S3Errors.of(name(), bucket, e);
    } catch (SdkClientException e) {
      throw S3Errors.of(name(), endpointName, e);
    }
  }

  @Override
  InputStream fetchStream(long start) throws IOException {
    long t0 = System.nanoTime();
    String range = "bytes=" + start + "-";
    counters.request();
    GetObjectRequest req = GetObjectRequest.builder().bucket(bucket).key(key).range(range)
        .ifMatch(versionTag()).build();
    ResponseInputStream<GetObjectResponse> response;
    try {
      response = s3.getObject(req);
    } catch (S3Exception e) {
      throw S3Errors.of(name(), bucket, e);
    } catch (SdkClientException e) {
      throw S3Errors.of(name(), endpointName, e);
    }
    try {
      checkVersion(response.response());
    } catch (RemoteAccessException e) {
      response.abort();
      throw e;
    }
    logRequest("GET", range, "streaming", size() - start, t0);
    // Closing before the end must not drain the rest of the object to reuse the connection.
    return new FilterInputStream(response) {
      private boolean ended;

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        int n = super.read(b, off, len);
        ended |= n < 0;
        return n;
      }

      @Override
      public void close() throws IOException {
        if (!ended) {
          response.abort();
        }
        super.close();
      }
    };
  }

  private void checkVersion(GetObjectResponse r) throws RemoteAccessException {
    if (r.eTag() != null && !r.eTag().equals(versionTag())) {
      throw S3Errors.changed(name());
    }
  }

  @Override
  void closeTransport() {
    s3.close();
  }
}
