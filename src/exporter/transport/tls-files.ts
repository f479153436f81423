import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { TlsConfig } from '../../config/exporter-config.js';
import { exporterConfigKey } from './config-key.js';
import { errorText } from '../../util/error-text.js';

/** Config keys and the OTLP environment variables that set them, for actionable messages. */
const KEYS = {
  caFile: ['tls.ca_file', 'OTEL_EXPORTER_OTLP_CERTIFICATE'],
  certFile: ['tls.cert_file', 'OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE'],
  keyFile: ['tls.key_file', 'OTEL_EXPORTER_OTLP_CLIENT_KEY'],
} as const;

type TlsFileField = keyof typeof KEYS;

/** PEM contents of the TLS files of one exporter, read and checked once at start-up. */
export interface LoadedTls {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly serverName?: string;
}

/**
 * Reads and validates the CA, client certificate and key of an exporter. Throws at start-up, naming
 * the config key (`operator.otel-profiles.exporters.NAME.tls.key_file`, with its env variable) and
 * the file, when a file is missing or unreadable, is not PEM of the right kind, when only one of
 * certificate/key is set, or when the key does not match the certificate.
 */
export function loadTlsFiles(tls: TlsConfig, exporterName: string): LoadedTls {
  const name = (field: TlsFileField): string =>
    `${exporterConfigKey(exporterName, KEYS[field][0])} (${KEYS[field][1]})`;
  if (tls.keyFile && !tls.certFile) {
    throw new Error(
      `${name('keyFile')} is set (${tls.keyFile}) but ${name('certFile')} is not: mTLS needs both`,
    );
  }
  if (tls.certFile && !tls.keyFile) {
    throw new Error(
      `${name('certFile')} is set (${tls.certFile}) but ${name('keyFile')} is not: mTLS needs both`,
    );
  }
  const read = (field: TlsFileField, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : errorText(err);
      throw new Error(`${name(field)}: cannot read ${path}: ${why}`);
    }
  };
  const ca = tls.caFile ? read('caFile', tls.caFile) : undefined;
  const cert = tls.certFile ? read('certFile', tls.certFile) : undefined;
  const key = tls.keyFile ? read('keyFile', tls.keyFile) : undefined;

  if (ca && tls.caFile) checkCertificate(ca, name('caFile'), tls.caFile);
  if (cert && tls.certFile) checkCertificate(cert, name('certFile'), tls.certFile);
  if (key && tls.keyFile) {
    try {
      createPrivateKey(key);
    } catch (err) {
      throw new Error(`${name('keyFile')}: ${tls.keyFile} is not a PEM private key (${errorText(err)})`);
    }
  }
  if (cert && key) {
    try {
      createSecureContext({ cert, key });
    } catch (err) {
      throw new Error(
        `${name('keyFile')}: ${tls.keyFile} does not belong to the certificate ${tls.certFile} of ${name('certFile')} (${errorText(err)})`,
      );
    }
  }
  return {
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(tls.serverName ? { serverName: tls.serverName } : {}),
  };
}

/** True when any TLS file or the server name is configured. */
export function hasTlsSettings(tls: TlsConfig): boolean {
  return Boolean(tls.caFile || tls.certFile || tls.keyFile || tls.serverName);
}

function checkCertificate(pem: Buffer, key: string, path: string): void {
  if (!pem.toString('latin1').includes('-----BEGIN CERTIFICATE-----')) {
    throw new Error(`${key}: ${path} contains no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  }
  try {
    new X509Certificate(pem);
  } catch (err) {
    throw new Error(`${key}: ${path} is not a valid PEM certificate (${errorText(err)})`);
  }
}
