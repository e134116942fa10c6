// The "Operating in production" guide stays true to the code: the settings, files, commands, queue keys
// and HTTP routes it names exist.
import { QueueKeys } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/program.js';
import { keys, RETIRE_QUEUE } from '../../src/queue/names.js';
import {
  configEnvNames,
  type Doc,
  filesUnder,
  isKnownSetting,
  repoFile,
  repoHas,
  yamlDocs,
} from './files.js';

const readme = repoFile('README.md');
const start = readme.indexOf('## Operating in production\n');
const next = readme.indexOf('\n## ', start + 1);
const doc = start < 0 ? '' : readme.slice(start, next < 0 ? undefined : next + 1);
/** Names in the guide that are not offboard settings: an Entra error code, and the Secret key KEDA reads. */
const NOT_SETTINGS = new Set(['AADSTS7000222', 'REDIS_PASSWORD']);

describe('README.md: Operating in production', () => {
  it('is the README section "Operating in production"', () => {
    expect(doc.startsWith('## Operating in production\n')).toBe(true);
  });

  it('names only settings the configuration loader reads', () => {
    const known = configEnvNames();
    const named = new Set([...doc.matchAll(/\b([A-Z][A-Z0-9]*_[A-Z0-9_]+)\b/g)].map((m) => m[1] as string));
    expect(named.size).toBeGreaterThan(10);
    expect([...named].filter((n) => !isKnownSetting(n, known) && !NOT_SETTINGS.has(n))).toEqual([]);
  });

  it('points at files that exist', () => {
    const paths = [
      ...doc.matchAll(/`((?:deploy\/[\w./-]+)|Dockerfile|docker-compose\.yml|\.env\.example)`/g),
    ].map((m) => m[1] as string);
    expect(paths.length).toBeGreaterThan(4);
    for (const p of paths) expect(repoHas(p.replace(/^\/app\//, '')), p).toBe(true);
  });

  it('uses only CLI commands that exist', () => {
    // Top-level commands come from the CLI's table, subcommands from each command's module.
    const registered = new Set([
      ...COMMANDS.map((c) => c.name),
      ...filesUnder('src/cli/commands').flatMap((f) =>
        [...repoFile(f).matchAll(/\.command\('([\w-]+)/g)].map((m) => m[1]),
      ),
    ]);
    // Commands appear in code: fenced blocks and inline spans (prose says "offboard" for the product).
    const code = [...doc.matchAll(/```[\s\S]*?```|`[^`\n]+`/g)].map((m) => m[0]).join('\n');
    const used = [...code.matchAll(/(?<!-n )(?<![\w/-])offboard ((?:[a-z][\w-]*)(?: [a-z][\w-]*)?)/g)].map(
      (m) => m[1] as string,
    );
    expect(used.length).toBeGreaterThan(10);
    for (const u of used) {
      const [cmd, sub] = u.split(' ') as [string, string | undefined];
      expect(registered.has(cmd), u).toBe(true);
      // A second word is either a subcommand or a positional argument in the prose (e.g. `offboard status <user>`).
      if (sub && !['dlq', 'batches', 'queue', 'keys', 'schedule'].includes(cmd)) continue;
      if (sub) expect(registered.has(sub), u).toBe(true);
    }
  });

  it('names the Redis keys the code uses', () => {
    const p = '<prefix>';
    expect(doc).toContain(`\`${keys.workers(p)}\``);
    expect(doc).toContain(`\`${keys.audit(p)}\``);
    for (const type of ['wait', 'active', 'delayed']) {
      expect(doc).toContain(`\`${new QueueKeys(p).toKey(RETIRE_QUEUE, type)}\``);
    }
  });

  it('lists exactly the alerting rules of deploy/prometheus/offboard-alerts.yml, none of them estimated', () => {
    const rules = (yamlDocs('deploy/prometheus/offboard-alerts.yml')[0] as Doc).groups.flatMap(
      (g: Doc) => g.rules as { alert: string; labels: { severity: string } }[],
    ) as { alert: string; labels: { severity: string } }[];
    const from = doc.indexOf('### Alerts to set\n');
    const table = doc.slice(from, doc.indexOf('\n### ', from + 1));
    const rows = [...table.matchAll(/^\| `(Offboard\w+)` \((warning|critical)[^)]*\)/gm)].map((m) => ({
      alert: m[1] as string,
      severity: m[2] as string,
    }));
    expect(rows.length).toBeGreaterThan(10);
    expect(rows.map((r) => r.alert).sort()).toEqual(rules.map((r) => r.alert).sort());
    for (const r of rows) {
      expect(r.severity, r.alert).toBe(rules.find((x) => x.alert === r.alert)?.labels.severity);
    }
    // Backlog age is measured (offboard_queue_oldest_waiting_age_seconds), not estimated.
    expect(table).not.toMatch(/estimat/i);
  });

  it('names only HTTP routes the API serves', () => {
    const routes = [
      ...doc.matchAll(/`(?:(GET|POST|DELETE) )?(\/(?:v1\/[\w/{}-]+|healthz|readyz|metrics|dashboard))`/g),
    ].map((m) => m[2] as string);
    const source = filesUnder('src/api/routes')
      .map((f) => repoFile(f))
      .join('\n');
    expect(routes.length).toBeGreaterThan(3);
    for (const r of routes) expect(source, r).toContain(`'${r.replace(/\{(\w+)\}/g, ':$1')}'`);
  });
});
