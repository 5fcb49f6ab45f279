/**
 * A read-only NBD server for {@link vmafs.image.ImageContent}s. Start at {@link vmafs.nbd.NbdServer};
 * an export is a name, a description and an image ({@link vmafs.nbd.Export}). The protocol subset
 * and every choice made are in docs/nbd-protocol.md, the threading and the bounds in docs/design.md.
 */
package vmafs.nbd;
