/**
 * TLS for the NBD server: {@link vmafs.nbd.tls.TlsCredentials} loads a certificate, its private
 * key and an optional client CA from PEM files and makes the SSLEngine of each connection.
 */
package vmafs.nbd.tls;
