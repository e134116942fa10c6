// AZURE_CLIENT_CERTIFICATE_PATH: one PEM file holding the private key and the certificate (chain),
// like Azure's own SDKs. MSAL wants the SHA-256 thumbprint (x5t#S256), the key, and the chain (x5c,
// which lets Entra accept subject-name/issuer authentication and certificate rollover).
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { TokenAcquisitionError } from './errors.js';

export interface ClientCertificate {
  /** Hex SHA-256 thumbprint of the leaf certificate. */
  thumbprintSha256: string;
  /** Unencrypted PKCS#8 PEM, in memory only. */
  privateKey: string;
  /** PEM chain, leaf first. */
  x5c: string;
  /** When the leaf certificate stops being valid (ISO 8601): published for the expiry alert. */
  notAfter: string;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]+?-----END \1-----/g;

function unreadable(path: string, why: string): TokenAcquisitionError {
  return new TokenAcquisitionError(
    `AZURE_CLIENT_CERTIFICATE_PATH ${path}: ${why}`,
    'certificate_unreadable',
    false,
  );
}

export function loadClientCertificate(path: string, password?: string): ClientCertificate {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw unreadable(path, `cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return parseClientCertificate(text, path, password);
}

export function parseClientCertificate(pem: string, label: string, password?: string): ClientCertificate {
  const blocks = [...pem.matchAll(PEM_BLOCK)].map((m) => ({ type: m[1] ?? '', text: m[0] }));
  const keyBlock = blocks.find((b) => b.type.endsWith('PRIVATE KEY'));
  const certBlocks = blocks.filter((b) => b.type === 'CERTIFICATE');
  if (!keyBlock)
    throw unreadable(label, 'no PEM private key found (expected key and certificate in one PEM file)');
  if (certBlocks.length === 0) throw unreadable(label, 'no PEM certificate found next to the private key');

  let key: KeyObject;
  try {
    key = createPrivateKey({ key: keyBlock.text, format: 'pem', passphrase: password });
  } catch {
    throw unreadable(
      label,
      password === undefined
        ? 'the private key cannot be read (encrypted? set AZURE_CLIENT_CERTIFICATE_PASSWORD)'
        : 'the private key cannot be read (wrong AZURE_CLIENT_CERTIFICATE_PASSWORD?)',
    );
  }
  // MSAL signs the assertion with PS256/RS256.
  if (key.asymmetricKeyType !== 'rsa')
    throw unreadable(label, `the private key must be RSA (got ${key.asymmetricKeyType})`);

  const certs = certBlocks.map((b) => {
    try {
      return { pem: b.text, x509: new X509Certificate(b.text) };
    } catch {
      throw unreadable(label, 'a certificate block is not a valid X.509 certificate');
    }
  });
  const leaf = certs.find((c) => c.x509.checkPrivateKey(key));
  if (!leaf) throw unreadable(label, 'no certificate in the file matches the private key');
  const chain = [leaf, ...certs.filter((c) => c !== leaf)];
  return {
    thumbprintSha256: leaf.x509.fingerprint256.replace(/:/g, '').toLowerCase(),
    privateKey: key.export({ format: 'pem', type: 'pkcs8' }).toString(),
    x5c: chain.map((c) => c.pem).join('\n'),
    notAfter: new Date(Date.parse(leaf.x509.validTo)).toISOString(),
  };
}
