/*
 * fuse-ceiling: the FUSE ceiling for the "cp --sparse=auto" benchmark (bench/cp-ceiling.sh).
 *
 * A minimal libfuse3 read-only passthrough of ONE file, written in C so that it costs as little
 * as a FUSE server can: MOUNTPOINT/disk.raw has SRC_FILE's size and contents; read is pread on
 * SRC_FILE, lseek (SEEK_DATA/SEEK_HOLE) is lseek on SRC_FILE. Whatever ratio this mount gets for
 * the cp of a sparse image against the same cp of SRC_FILE is what FUSE itself (kernel round trips,
 * /dev/fuse, libfuse) costs on the machine; the rest of vmafs's ratio is the Java layer.
 *
 * Like vmafs it serves the file with direct_io (no page cache), unless FC_PAGE_CACHE=1 is set,
 * and caches attributes and entries for a day (vmafs's entry_timeout/attr_timeout/kernel_cache).
 *
 *   gcc -O2 -Wall -o fuse-ceiling fuse-ceiling.c $(pkg-config --cflags --libs fuse3)
 *   ./fuse-ceiling SRC_FILE MOUNTPOINT [fuse options, e.g. -s (single-threaded), -f, -o ro]
 *   fusermount3 -u MOUNTPOINT
 */
#define FUSE_USE_VERSION 31
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *NAME = "/disk.raw";
static int src = -1;  /* the source file, opened read-only before fuse_main */

static void *fc_init(struct fuse_conn_info *conn, struct fuse_config *cfg) {
  (void)conn;
  const char *pc = getenv("FC_PAGE_CACHE");
  cfg->direct_io = !(pc && strcmp(pc, "1") == 0);
  cfg->kernel_cache = 1;
  cfg->attr_timeout = cfg->entry_timeout = cfg->negative_timeout = 86400;
  return NULL;
}

static int fc_getattr(const char *path, struct stat *st, struct fuse_file_info *fi) {
  (void)fi;
  if (strcmp(path, "/") == 0) {
    memset(st, 0, sizeof *st);
    st->st_mode = S_IFDIR | 0555;
    st->st_nlink = 2;
    return 0;
  }
  if (strcmp(path, NAME) != 0) return -ENOENT;
  if (fstat(src, st) < 0) return -errno;
  st->st_mode = S_IFREG | 0444;
  st->st_nlink = 1;
  return 0;
}

static int fc_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
                      struct fuse_file_info *fi, enum fuse_readdir_flags flags) {
  (void)off; (void)fi; (void)flags;
  if (strcmp(path, "/") != 0) return -ENOENT;
  fill(buf, ".", NULL, 0, 0);
  fill(buf, "..", NULL, 0, 0);
  fill(buf, NAME + 1, NULL, 0, 0);
  return 0;
}

static int fc_open(const char *path, struct fuse_file_info *fi) {
  if (strcmp(path, NAME) != 0) return -ENOENT;
  if ((fi->flags & O_ACCMODE) != O_RDONLY) return -EROFS;
  return 0;
}

static int fc_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)path; (void)fi;
  ssize_t n = pread(src, buf, size, off);
  return n < 0 ? -errno : (int)n;
}

static off_t fc_lseek(const char *path, off_t off, int whence, struct fuse_file_info *fi) {
  (void)path; (void)fi;
  off_t r = lseek(src, off, whence);  /* the offset of the shared fd is never used by pread */
  return r < 0 ? -errno : r;          /* -ENXIO past the last data */
}

static const struct fuse_operations ops = {
  .init = fc_init,
  .getattr = fc_getattr,
  .readdir = fc_readdir,
  .open = fc_open,
  .read = fc_read,
  .lseek = fc_lseek,
};

int main(int argc, char *argv[]) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s SRC_FILE MOUNTPOINT [fuse options]\n", argv[0]);
    return 2;
  }
  src = open(argv[1], O_RDONLY);
  if (src < 0) { perror(argv[1]); return 1; }
  /* fuse_main gets argv without SRC_FILE: PROG MOUNTPOINT [options] */
  argv[1] = argv[0];
  return fuse_main(argc - 1, argv + 1, &ops, NULL);
}
