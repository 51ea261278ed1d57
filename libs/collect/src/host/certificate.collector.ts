import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { defineCollector } from '../framework/collector.types';
import type { HostCollectorSpec } from '../spec/collector-schemas';

export type KeyPairStatus =
  | 'key-pair-valid'
  | 'key-pair-missing'
  | 'key-pair-switched'
  | 'key-pair-encrypted'
  | 'key-pair-mismatch'
  | 'key-pair-invalid';

const isEncryptedKey = (pem: string) =>
  /-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(pem) || /Proc-Type:\s*4,ENCRYPTED/.test(pem);
const looksLikeKey = (pem: string) => /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem);
const looksLikeCert = (pem: string) => /-----BEGIN CERTIFICATE-----/.test(pem);

/** The verdict troubleshoot writes for a certificate/key file pair. */
export function keyPairStatus(cert: string | undefined, key: string | undefined): KeyPairStatus {
  if (cert === undefined || key === undefined) return 'key-pair-missing';
  if (looksLikeKey(cert) && looksLikeCert(key)) return 'key-pair-switched';
  if (isEncryptedKey(key)) return 'key-pair-encrypted';
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch {
    return 'key-pair-invalid';
  }
  try {
    return x509.checkPrivateKey(createPrivateKey(key)) ? 'key-pair-valid' : 'key-pair-mismatch';
  } catch {
    return 'key-pair-invalid';
  }
}

export const certificateCollector = defineCollector<HostCollectorSpec<'certificate'>>({
  type: 'certificate',
  scope: 'host',
  defaultTitle: 'Certificate Key Pair',
  async collect(ctx) {
    const read = (path: string) => readFile(path, 'utf8').catch(() => undefined);
    const status = keyPairStatus(await read(ctx.spec.certificatePath), await read(ctx.spec.keyPath));
    await ctx.output.addFile(`host-collectors/certificate/${ctx.rawSpec.collectorName || 'certificate'}.json`, status);
  },
});
