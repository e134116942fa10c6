// No deployment file carries a secret: no client secret, password, private key, key hash or token.
// They are all references (env file, Kubernetes Secret, TriggerAuthentication) or empty placeholders.
import { describe, expect, it } from 'vitest';
import { filesUnder, repoFile } from './files.js';

const PLACEHOLDER = /^(<[^>]*>|\$\{?[A-Z_][A-Z0-9_]*(:-[^}]*)?\}?|\*+|\.\.\.|…)$/;

/** Returns a description of each suspected secret in `text`. */
function findSecrets(text: string): string[] {
  const hits: string[] = [];
  if (/-----BEGIN [A-Z ]*(PRIVATE KEY|CERTIFICATE)-----/.test(text)) hits.push('PEM block');
  for (const m of text.matchAll(/[a-z+]+:\/\/[^\s/:@'"]*:([^\s@'"]+)@/g)) {
    if (!PLACEHOLDER.test(m[1] as string)) hits.push(`credentials in URL ${m[0]}`);
  }
  for (const m of text.matchAll(
    /\b(AZURE_CLIENT_SECRET|CLIENT_SECRET|TOKEN_CACHE_KEY|EVIDENCE_KEY|AZURE_CLIENT_CERTIFICATE_PASSWORD|REDIS_PASSWORD|API_KEYS|PASSWORD|requirepass|masterauth)\b[ \t]*[:=][ \t]*["']?([^\s"'#,]*)/gi,
  )) {
    const value = m[2] as string;
    if (value && !PLACEHOLDER.test(value)) hits.push(`${m[1]} has a value`);
  }
  for (const m of text.matchAll(/--(requirepass|masterauth)\s+(\S+)/g)) hits.push(`redis ${m[1]} ${m[2]}`);
  for (const m of text.matchAll(/\b[0-9a-fA-F]{40,}\b/g)) {
    if (!/^0+$/.test(m[0])) hits.push(`long hex string ${m[0].slice(0, 8)}…`);
  }
  for (const m of text.matchAll(/[A-Za-z0-9+_=-]{40,}/g)) {
    const s = m[0];
    if (/[A-Z]/.test(s) && /[a-z]/.test(s) && /[0-9]/.test(s))
      hits.push(`high-entropy string ${s.slice(0, 8)}…`);
  }
  return hits;
}

const FILES = [
  'Dockerfile',
  '.dockerignore',
  'docker-compose.yml',
  '.env.example',
  ...filesUnder('deploy'),
  'README.md',
];

describe('secret scan of the deployment files', () => {
  it('recognises the secrets it looks for (the scan can fail)', () => {
    const planted = [
      'AZURE_CLIENT_SECRET=abc~DEF.123',
      '  REDIS_PASSWORD: "hunter2"',
      'REDIS_URL=rediss://default:hunter2@redis:6380',
      '-----BEGIN PRIVATE KEY-----',
      'API_KEYS=hr:producer:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
      'TOKEN_CACHE_KEY=q8Xb2yP0vJr7Lm4NcZs1Tq9Wd3Ke6Hf5Ug8Ai2Bo7Rk=',
      'EVIDENCE_KEY=abc123',
      'redis-server --requirepass s3cret',
    ];
    for (const line of planted) expect(findSecrets(line), line).not.toEqual([]);
    for (const fine of [
      'AZURE_CLIENT_SECRET=',
      'REDIS_URL=rediss://:<password>@redis.example.internal:6380',
      'key: REDIS_PASSWORD',
      '- name: API_KEYS_FILE',
      'AZURE_FEDERATED_TOKEN_FILE=/var/run/secrets/azure/tokens/azure-identity-token',
      'azure.workload.identity/client-id: 00000000-0000-0000-0000-000000000000',
    ]) {
      expect(findSecrets(fine), fine).toEqual([]);
    }
  });

  it.each(FILES)('%s contains no secret', (file) => {
    expect(findSecrets(repoFile(file))).toEqual([]);
  });
});
