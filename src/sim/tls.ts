// The simulator's self-signed TLS certificate. MSAL only talks https, and Node reads extra trust
// anchors once at start (NODE_EXTRA_CA_CERTS), so the same files are reused across processes.
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import selfsigned from 'selfsigned';

export interface SimCertificate {
  certFile: string;
  keyFile: string;
}

const CERT = 'offboard-sim-cert.pem';
const KEY = 'offboard-sim-key.pem';

/** Returns the certificate in `dir`, generating it (SAN IP:127.0.0.1, ::1, DNS:localhost) when missing. */
export async function ensureSimCertificate(dir: string): Promise<SimCertificate> {
  const certFile = join(dir, CERT);
  const keyFile = join(dir, KEY);
  if (existsSync(certFile) && existsSync(keyFile)) return { certFile, keyFile };
  mkdirSync(dir, { recursive: true });
  const notBeforeDate = new Date(Date.now() - 24 * 3600 * 1000);
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'offboard-simulator' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + 825 * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  // Key first, each written under a temporary name then renamed: a concurrent reader sees both or neither.
  const suffix = `.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(keyFile + suffix, pems.private, { mode: 0o600 });
  writeFileSync(certFile + suffix, pems.cert);
  renameSync(keyFile + suffix, keyFile);
  renameSync(certFile + suffix, certFile);
  return { certFile, keyFile };
}
