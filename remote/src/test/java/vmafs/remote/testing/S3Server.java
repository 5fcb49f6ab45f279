package vmafs.remote.testing;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStore;
import org.jclouds.blobstore.BlobStoreContext;
import org.jclouds.blobstore.domain.Blob;
import org.jclouds.blobstore.options.GetOptions;
import org.jclouds.blobstore.util.ForwardingBlobStore;

/**
 * A real S3 REST server for tests: s3proxy with its filesystem backend (a bucket is a directory
 * under {@code baseDir}), in this JVM, on 127.0.0.1 and a free port, checking SigV2/SigV4
 * signatures against one key pair. It counts the object reads it serves, as the server sees them.
 */
public final class S3Server implements AutoCloseable {
  public static final String ACCESS_KEY = "vmafs-test-access";
  public static final String SECRET_KEY = "vmafs-test-secret";

  private final S3Proxy proxy;
  private final BlobStoreContext context;
  private final Counting store;
  private final URI endpoint;

  private S3Server(S3Proxy proxy, BlobStoreContext context, Counting store) {
    this.proxy = proxy;
    this.context = context;
    this.store = store;
    this.endpoint = URI.create("http://127.0.0.1:" + proxy.getPort());
  }

  public static S3Server start(Path baseDir) throws Exception {
    Properties p = new Properties();
    p.setProperty("jclouds.filesystem.basedir", baseDir.toString());
    BlobStoreContext context = ContextBuilder.newBuilder("filesystem").overrides(p).build(BlobStoreContext.class);
    Counting store = new Counting(context.getBlobStore());
    S3Proxy proxy = S3Proxy.builder()
        .blobStore(store)
        .endpoint(URI.create("http://127.0.0.1:0"))
        .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
        .build();
    proxy.start();
    for (int i = 0; i < 500 && !"STARTED".equals(proxy.getState()); i++) {
      Thread.sleep(10);
    }
    if (!"STARTED".equals(proxy.getState())) {
      proxy.stop();
      context.close();
      throw new IllegalStateException("s3proxy did not start: " + proxy.getState());
    }
    return new S3Server(proxy, context, store);
  }

  public URI endpoint() {
    return endpoint;
  }

  public int port() {
    return proxy.getPort();
  }

  public void createBucket(String bucket) {
    store.createContainerInLocation(null, bucket);
  }

  /** Stores a file as an object (straight into the backend, not through the S3 API). */
  public void put(String bucket, String key, Path file) throws IOException {
    Blob blob = store.blobBuilder(key).payload(file.toFile()).contentLength(java.nio.file.Files.size(file)).build();
    store.putBlob(bucket, blob);
  }

  public void put(String bucket, String key, byte[] data) {
    store.putBlob(bucket, store.blobBuilder(key).payload(data).contentLength(data.length).build());
  }

  /** Object GETs served since the last {@link #resetCounts} (ranged or not, failed or not). */
  public int gets() {
    return store.gets.get();
  }

  /** The ranges of those GETs, "start-end" or "start-" ("" for the whole object). */
  public List<String> ranges() {
    synchronized (store.ranges) {
      return new ArrayList<>(store.ranges);
    }
  }

  public void resetCounts() {
    store.gets.set(0);
    synchronized (store.ranges) {
      store.ranges.clear();
    }
  }

  @Override
  public void close() throws Exception {
    try {
      proxy.stop();
    } finally {
      context.close();
    }
  }

  /** The backend as s3proxy calls it: every object read passes here. */
  private static final class Counting extends ForwardingBlobStore {
    final AtomicInteger gets = new AtomicInteger();
    final List<String> ranges = new ArrayList<>();

    Counting(BlobStore delegate) {
      super(delegate);
    }

    @Override
    public Blob getBlob(String container, String name) {
      record("");
      return super.getBlob(container, name);
    }

    @Override
    public Blob getBlob(String container, String name, GetOptions options) {
      record(options == null || options.getRanges().isEmpty() ? "" : String.join(",", options.getRanges()));
      return super.getBlob(container, name, options);
    }

    private void record(String range) {
      gets.incrementAndGet();
      synchronized (ranges) {
        ranges.add(range);
      }
    }
  }
}
