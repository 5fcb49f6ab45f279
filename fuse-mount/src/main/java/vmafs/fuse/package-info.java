/**
 * What both FUSE backends share: the mount lifecycle ({@link vmafs.fuse.SessionMount}), the
 * {@code -o} options, the mount table and fusermount. Not API; the CLI uses
 * {@link vmafs.fs.FuseMounts}.
 */
package vmafs.fuse;
