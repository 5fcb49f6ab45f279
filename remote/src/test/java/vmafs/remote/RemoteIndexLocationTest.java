package vmafs.remote;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class RemoteIndexLocationTest {
  @Test
  void keyedByNameAndVersion() {
    Path a = RemoteIndexLocation.forObject("s3://b/dump/x.vma.zst", "\"etag-1\"");
    assertEquals(a, RemoteIndexLocation.forObject("s3://b/dump/x.vma.zst", "\"etag-1\""));
    assertNotEquals(a, RemoteIndexLocation.forObject("s3://b/dump/x.vma.zst", "\"etag-2\""), "a new version");
    assertNotEquals(a, RemoteIndexLocation.forObject("s3://c/dump/x.vma.zst", "\"etag-1\""), "another bucket");
    assertEquals(RemoteIndexLocation.cacheDir().resolve("remote"), a.getParent());
    assertTrue(a.getFileName().toString().matches("[0-9a-f]{32}-x\\.vma\\.zst\\.vmafs-index"), a.toString());
  }

  @Test
  void theFileNamePartIsSafe() {
    assertEquals("x.vma", RemoteIndexLocation.fileName("https://h/d/x.vma?…"));
    assertEquals("_", RemoteIndexLocation.fileName("s3://b/x/.."), "no parent directory");
    assertEquals("a_b_c", RemoteIndexLocation.fileName("s3://b/a b\\c"));
    assertEquals("_bashrc", RemoteIndexLocation.fileName("s3://b/.bashrc"));
    assertEquals("archive", RemoteIndexLocation.fileName("https://h/"));
    assertEquals(80, RemoteIndexLocation.fileName("s3://b/" + "y".repeat(300)).length());
  }
}
