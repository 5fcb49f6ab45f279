package vmafs.remote;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ArchiveLocationTest {
  @Test
  void s3UrlsNameBucketAndKey() {
    assertEquals(new ArchiveLocation.S3("backups", "dump/vzdump-qemu-100.vma.zst"),
        ArchiveLocation.parse("s3://backups/dump/vzdump-qemu-100.vma.zst"));
    assertEquals(new ArchiveLocation.S3("my.bucket-1", "a b%20c"), ArchiveLocation.parse("S3://my.bucket-1/a b%20c"));
    assertEquals("s3://backups/k", ArchiveLocation.parse("s3://backups/k").displayName());
  }

  @Test
  void malformedS3UrlsSayWhatIsWrong() {
    assertEquals("s3://backups: an S3 archive is s3://BUCKET/KEY",
        assertThrows(IllegalArgumentException.class, () -> ArchiveLocation.parse("s3://backups")).getMessage());
    assertEquals("s3://backups/: an S3 archive is s3://BUCKET/KEY",
        assertThrows(IllegalArgumentException.class, () -> ArchiveLocation.parse("s3://backups/")).getMessage());
    assertTrue(assertThrows(IllegalArgumentException.class, () -> ArchiveLocation.parse("s3://Bad_Bucket/k"))
        .getMessage().startsWith("s3://Bad_Bucket/k: 'Bad_Bucket' is not a valid bucket name"));
  }

  @Test
  void httpUrlsAndPaths() {
    assertEquals(new ArchiveLocation.Http(URI.create("https://host:8443/d/x.vma")),
        ArchiveLocation.parse("https://host:8443/d/x.vma"));
    assertEquals(new ArchiveLocation.Local(Path.of("dir/x.vma")), ArchiveLocation.parse("dir/x.vma"));
    assertEquals(new ArchiveLocation.Local(Path.of("odd:name.vma")), ArchiveLocation.parse("odd:name.vma"));
    assertFalse(ArchiveLocation.parse("/var/lib/vz/dump/x.vma").remote());
    assertTrue(ArchiveLocation.parse("http://h/x").remote());
  }

  @Test
  void unsupportedSchemesAndCredentialsInUrlsAreRefused() {
    assertEquals("ftp://h/x.vma: unsupported URL scheme 'ftp' (use s3://, https://, http://, or a file path;"
        + " ./ftp://h/x.vma for a file of that name)",
        assertThrows(IllegalArgumentException.class, () -> ArchiveLocation.parse("ftp://h/x.vma")).getMessage());
    String m = assertThrows(IllegalArgumentException.class,
        () -> ArchiveLocation.parse("https://user:secret@h/x.vma")).getMessage();
    assertFalse(m.contains("secret"), m);
    assertTrue(m.startsWith("https://h/x.vma: user names and passwords in URLs are not supported"), m);
  }

  @Test
  void displayNamesHideQueryStrings() {
    assertEquals("https://h/b/x.vma?…",
        ArchiveLocation.displayName(URI.create("https://h/b/x.vma?X-Amz-Signature=abc&X-Amz-Credential=k")));
    assertEquals("http://h:81/", ArchiveLocation.displayName(URI.create("http://h:81")));
  }

  @Test
  void pathStyleForIpAddressesAndLocalhost() {
    assertTrue(S3StoredBytes.pathStyleFor(URI.create("http://127.0.0.1:9000")));
    assertTrue(S3StoredBytes.pathStyleFor(URI.create("http://localhost:9000")));
    assertTrue(S3StoredBytes.pathStyleFor(URI.create("http://[::1]:9000")));
    assertTrue(S3StoredBytes.pathStyleFor(URI.create("https://10.1.2.3")));
    assertFalse(S3StoredBytes.pathStyleFor(URI.create("https://s3.eu-central-1.wasabisys.com")));
    assertFalse(S3StoredBytes.pathStyleFor(URI.create("https://minio.example.org")));
    assertFalse(S3StoredBytes.pathStyleFor(null));
  }
}
