import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSimCertificate } from '../../src/sim/tls.js';
import { startTestSimulator, type TestSimulator } from '../helpers/sim.js';

const run = promisify(execFile);
let sim: TestSimulator;

beforeAll(async () => {
  sim = await startTestSimulator();
});
afterAll(async () => {
  await sim?.close();
});

describe('simulator TLS', () => {
  it('generates a loopback certificate once and reuses it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'offboard-tls-test-'));
    try {
      const first = await ensureSimCertificate(dir);
      const mtime = statSync(first.certFile).mtimeMs;
      const again = await ensureSimCertificate(dir);
      expect(again).toEqual(first);
      expect(statSync(again.certFile).mtimeMs).toBe(mtime);
      const cert = new X509Certificate(readFileSync(first.certFile));
      expect(cert.subjectAltName).toContain('IP Address:127.0.0.1');
      expect(cert.subjectAltName).toContain('DNS:localhost');
      expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('uses the certificate from OFFBOARD_SIM_TLS_DIR (the one global setup trusts)', () => {
    expect(sim.caFile).toBe(join(process.env.OFFBOARD_SIM_TLS_DIR ?? '', 'offboard-sim-cert.pem'));
  });

  it('child processes inherit the trust and reach the Entra fake over https', async () => {
    const url = `${sim.authorityHost}/${sim.tenantId}/v2.0/.well-known/openid-configuration`;
    const script = 'fetch(process.argv[1]).then((r) => r.json()).then((j) => console.log(j.token_endpoint))';
    const { stdout } = await run(process.execPath, ['-e', script, url], { env: process.env });
    expect(stdout.trim()).toBe(`${sim.authorityHost}/${sim.tenantId}/oauth2/v2.0/token`);
    // Without the extra CA the same request is refused: the trust really comes from NODE_EXTRA_CA_CERTS.
    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;
    const refused = await run(process.execPath, ['-e', script, url], { env }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(Error);
  });
});
