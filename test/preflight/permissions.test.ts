// What the configuration needs and whether a token's roles/scp cover it, including the
// higher-privileged permissions Graph accepts in their place; and reading a token's claims.
import { describe, expect, it } from 'vitest';
import { readAccessTokenClaims, UnreadableTokenError } from '../../src/entra/claims.js';
import { missingPermissions, PERMISSION, requiredPermissions } from '../../src/preflight/permissions.js';

describe('requiredPermissions', () => {
  it('always the retire permission; device reads with evidence; users and lifecycle with an Entra sweep', () => {
    expect(requiredPermissions({ evidence: false, entraSweep: false })).toEqual([PERMISSION.retire]);
    expect(requiredPermissions({ evidence: true, entraSweep: false })).toEqual([
      PERMISSION.retire,
      'DeviceManagementManagedDevices.Read.All',
    ]);
    expect(requiredPermissions({ evidence: false, entraSweep: true })).toEqual([
      'DeviceManagementManagedDevices.PrivilegedOperations.All',
      'User.Read.All',
      'User-LifeCycleInfo.Read.All',
    ]);
  });
});

describe('missingPermissions', () => {
  const all = requiredPermissions({ evidence: true, entraSweep: true });
  it('names exactly what is missing, case-insensitively', () => {
    expect(
      missingPermissions(
        all,
        all.map((p) => p.toUpperCase()),
      ),
    ).toEqual([]);
    expect(
      missingPermissions(all, [PERMISSION.retire, PERMISSION.readDevices, PERMISSION.readUsers]),
    ).toEqual(['User-LifeCycleInfo.Read.All']);
    expect(missingPermissions(all, [])).toEqual(all);
  });

  it('accepts the higher-privileged permissions Graph accepts instead, never for the retire', () => {
    const granted = [
      'DeviceManagementManagedDevices.ReadWrite.All',
      'Directory.Read.All',
      'User-LifeCycleInfo.ReadWrite.All',
    ];
    expect(missingPermissions(all, granted)).toEqual([PERMISSION.retire]);
  });
});

describe('readAccessTokenClaims', () => {
  const jwt = (payload: object) =>
    `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.sig`;

  it('reads aud, tid, roles and the space-separated scp', () => {
    expect(
      readAccessTokenClaims(jwt({ aud: 'https://graph.microsoft.com', tid: 't', roles: ['A', 1] })),
    ).toEqual({
      aud: 'https://graph.microsoft.com',
      tid: 't',
      roles: ['A'],
    });
    expect(readAccessTokenClaims(jwt({ scp: 'A  B', idtyp: 'user' })).scp).toEqual(['A', 'B']);
  });

  it('refuses what is not a JWT with a readable object payload', () => {
    for (const bad of ['opaque', 'a.b', `x.${Buffer.from('[1]').toString('base64url')}.y`, 'x.!!!.y']) {
      expect(() => readAccessTokenClaims(bad), bad).toThrow(UnreadableTokenError);
    }
  });
});
