import { describe, expect, it } from 'vitest';
import { checkGraphBaseUrl, graphUrl, InsecureGraphUrlError, userActionPath } from '../../src/graph/url.js';
import { isLoopbackHost } from '../../src/net/loopback.js';

const BASE = 'https://graph.microsoft.com/v1.0';
/** The retire action's URL as graphCall builds it. */
const userActionUrl = (base: string, user: string) => graphUrl(base, userActionPath(user));

describe('userActionUrl', () => {
  it('uses the plain path for a GUID and a UPN', () => {
    expect(userActionUrl(BASE, '0f8fad5b-d9cb-469f-a165-70867728950e')).toBe(
      `${BASE}/users/0f8fad5b-d9cb-469f-a165-70867728950e/removeAllDevicesFromManagement`,
    );
    expect(userActionUrl(`${BASE}/`, 'ann@contoso.com')).toBe(
      `${BASE}/users/ann%40contoso.com/removeAllDevicesFromManagement`,
    );
  });

  it('encodes characters that would change the path or query', () => {
    expect(userActionUrl(BASE, 'a#b?c/d@x.com')).toBe(
      `${BASE}/users/a%23b%3Fc%2Fd%40x.com/removeAllDevicesFromManagement`,
    );
    expect(userActionUrl(BASE, "o'brien@x.com")).toBe(
      `${BASE}/users/o'brien%40x.com/removeAllDevicesFromManagement`,
    );
  });

  it('uses the key form for a UPN starting with $, doubling single quotes', () => {
    expect(userActionUrl(BASE, '$adele@contoso.com')).toBe(
      `${BASE}/users('%24adele%40contoso.com')/removeAllDevicesFromManagement`,
    );
    expect(userActionUrl(BASE, "$o'neil@x.com")).toBe(
      `${BASE}/users('%24o''neil%40x.com')/removeAllDevicesFromManagement`,
    );
  });
});

describe('checkGraphBaseUrl', () => {
  it('accepts https anywhere and http only on loopback', () => {
    expect(checkGraphBaseUrl(BASE).hostname).toBe('graph.microsoft.com');
    expect(checkGraphBaseUrl('http://127.0.0.1:8080/v1.0').port).toBe('8080');
    expect(checkGraphBaseUrl('http://localhost/v1.0').hostname).toBe('localhost');
    expect(checkGraphBaseUrl('http://[::1]:9/v1.0').hostname).toBe('[::1]');
    expect(() => checkGraphBaseUrl('http://graph.microsoft.com/v1.0')).toThrow(InsecureGraphUrlError);
    expect(() => checkGraphBaseUrl('ftp://127.0.0.1/v1.0')).toThrow(InsecureGraphUrlError);
    expect(() => checkGraphBaseUrl('not a url')).toThrow(TypeError);
  });

  it('knows loopback hosts', () => {
    expect(isLoopbackHost('127.10.0.1')).toBe(true);
    expect(isLoopbackHost('127.0.0.1.evil.com')).toBe(false);
    expect(isLoopbackHost('10.0.0.1')).toBe(false);
    // One list for every check, in any letter case (config's copy did not lower-case).
    expect(isLoopbackHost('LocalHost')).toBe(true);
  });
});
