import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import selfsigned from 'selfsigned';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadClientCertificate } from '../../src/entra/certificate.js';
import { TokenAcquisitionError } from '../../src/entra/errors.js';

let pems: { private: string; cert: string };
let other: { private: string; cert: string };
const dir = mkdtempSync(join(tmpdir(), 'offboard-cert-'));

beforeAll(async () => {
  pems = await selfsigned.generate([{ name: 'commonName', value: 'offboard-test' }], {
    keyType: 'rsa',
    keySize: 2048,
  });
  other = await selfsigned.generate([{ name: 'commonName', value: 'other' }], {
    keyType: 'rsa',
    keySize: 2048,
  });
});

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function failure(fn: () => unknown): TokenAcquisitionError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TokenAcquisitionError);
    expect((err as TokenAcquisitionError).code).toBe('certificate_unreadable');
    expect((err as TokenAcquisitionError).transient).toBe(false);
    return err as TokenAcquisitionError;
  }
  throw new Error('expected certificate_unreadable');
}

describe('client certificate PEM', () => {
  it('computes the SHA-256 thumbprint of the leaf and puts it first in x5c, whatever the order', () => {
    const expected = createHash('sha256').update(new X509Certificate(pems.cert).raw).digest('hex');
    const cert = loadClientCertificate(file('a.pem', `${other.cert}\n${pems.cert}\n${pems.private}`));
    expect(cert.thumbprintSha256).toBe(expected);
    expect(cert.x5c.indexOf(pems.cert.trim())).toBe(0);
    expect(cert.privateKey).toContain('BEGIN PRIVATE KEY');
  });

  it('decrypts a password-protected key, and says so when the password is missing or wrong', () => {
    const encrypted = createPrivateKey(pems.private)
      .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'correct horse' })
      .toString();
    const path = file('enc.pem', `${encrypted}\n${pems.cert}`);
    expect(loadClientCertificate(path, 'correct horse').privateKey).toContain('BEGIN PRIVATE KEY');
    expect(failure(() => loadClientCertificate(path)).message).toMatch(/AZURE_CLIENT_CERTIFICATE_PASSWORD/);
    const wrong = failure(() => loadClientCertificate(path, 'wrong password'));
    expect(wrong.message).not.toContain('wrong password');
  });

  it('rejects files without a key, without a matching certificate, or missing', () => {
    failure(() => loadClientCertificate(file('nokey.pem', pems.cert)));
    failure(() => loadClientCertificate(file('nocert.pem', pems.private)));
    expect(
      failure(() => loadClientCertificate(file('mismatch.pem', `${pems.private}\n${other.cert}`))).message,
    ).toMatch(/matches the private key/);
    expect(failure(() => loadClientCertificate(join(dir, 'absent.pem'))).message).toMatch(/ENOENT/);
  });
});
