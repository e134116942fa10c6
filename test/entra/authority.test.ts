import { describe, expect, it } from 'vitest';
import { appScopes, authorityOptions, delegatedScopes, graphOrigin } from '../../src/entra/authority.js';
import { testConfig } from '../helpers/config.js';

const base = {
  AZURE_TENANT_ID: 'contoso.onmicrosoft.com',
  AZURE_CLIENT_ID: '11111111-2222-3333-4444-555555555555',
};

describe('authority and scopes', () => {
  it('Microsoft hosts need no knownAuthorities (MSAL has their metadata)', () => {
    for (const host of [
      'https://login.microsoftonline.com',
      'https://login.microsoftonline.us',
      'https://login.chinacloudapi.cn',
      'https://login.partner.microsoftonline.cn',
    ]) {
      const cfg = testConfig({ ...base, AZURE_AUTHORITY_HOST: host });
      expect(authorityOptions(cfg.auth)).toEqual({
        authority: `${host}/contoso.onmicrosoft.com`,
        knownAuthorities: [],
      });
    }
  });

  it('any other host is a known authority, with its port', () => {
    const cfg = testConfig({ ...base, AZURE_AUTHORITY_HOST: 'https://127.0.0.1:8443/' });
    expect(authorityOptions(cfg.auth)).toEqual({
      authority: 'https://127.0.0.1:8443/contoso.onmicrosoft.com',
      knownAuthorities: ['127.0.0.1:8443'],
    });
    const adfs = testConfig({ ...base, AZURE_AUTHORITY_HOST: 'https://login.example.org' });
    expect(authorityOptions(adfs.auth).knownAuthorities).toEqual(['login.example.org']);
  });

  it('scopes follow the Graph cloud; the loopback simulator stands for public Graph', () => {
    expect(graphOrigin('https://graph.microsoft.us/v1.0')).toBe('https://graph.microsoft.us');
    expect(graphOrigin('https://microsoftgraph.chinacloudapi.cn/v1.0')).toBe(
      'https://microsoftgraph.chinacloudapi.cn',
    );
    expect(graphOrigin('http://127.0.0.1:4000/v1.0')).toBe('https://graph.microsoft.com');
    expect(graphOrigin('http://localhost:4000/v1.0')).toBe('https://graph.microsoft.com');
    const us = testConfig({ ...base, GRAPH_BASE_URL: 'https://graph.microsoft.us/v1.0' });
    expect(appScopes(us)).toEqual(['https://graph.microsoft.us/.default']);
    expect(delegatedScopes(us)).toEqual([
      'https://graph.microsoft.us/DeviceManagementManagedDevices.PrivilegedOperations.All',
      'offline_access',
    ]);
    expect(appScopes(testConfig(base))).toEqual(['https://graph.microsoft.com/.default']);
  });
});
