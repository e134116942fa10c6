// The Dockerfile's promises: multi-stage, production dependencies only at run time, a current Node LTS
// slim base, non-root, a health check, ENTRYPOINT ["offboard"], nothing secret or superfluous inside.
import { builtinModules } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  type DockerStage,
  dockerIgnored,
  dockerignorePatterns,
  expandArgs,
  filesUnder,
  parseDockerfile,
  repoFile,
  repoHas,
} from './files.js';

const dockerfile = parseDockerfile(repoFile('Dockerfile'));
const final = dockerfile.stages.at(-1) as DockerStage;
const ops = (stage: DockerStage, op: string) => stage.instructions.filter((i) => i.op === op);
const stageNamed = (name: string) => dockerfile.stages.find((s) => s.name === name);
/** `COPY [--from=x] [--chown=…] src… dest` → {from, sources, dest}. */
function copyOf(args: string): { from?: string; sources: string[]; dest: string } {
  const words = args.split(/\s+/);
  const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
  const plain = words.filter((w) => !w.startsWith('--'));
  return { from, sources: plain.slice(0, -1), dest: plain.at(-1) as string };
}

describe('Dockerfile', () => {
  it('is multi-stage on a current Node LTS slim base', () => {
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of dockerfile.stages) {
      const base = expandArgs(stage.from, dockerfile.globalArgs);
      // Even Node majors are LTS lines; 22 and 24 are the supported ones (engines: ^20.19 || >=22.12).
      expect(base).toMatch(/^node:(22|24)(\.\d+)*-([a-z]+-)?slim(@sha256:[0-9a-f]{64})?$/);
    }
  });

  it('ships the Node line that .ci/run also tests, within package.json engines', () => {
    const majors = new Set(
      dockerfile.stages.map((st) => /^node:(\d+)/.exec(expandArgs(st.from, dockerfile.globalArgs))?.[1]),
    );
    expect([...majors]).toEqual(['24']);
    const ci = repoFile('.ci/run');
    // The suite runs a second time with the registry's node@24 first on PATH.
    expect(ci).toMatch(/npx -y -p node@24 node/);
    expect(ci).toMatch(/PATH="\$node24_bin:\$PATH" npm test/);
    const engines = JSON.parse(repoFile('package.json')).engines.node as string;
    expect(engines).toBe('^20.19.0 || >=22.12.0');
  });

  it('builds with dev dependencies and runs with production dependencies only', () => {
    const build = dockerfile.stages.find((s) => ops(s, 'RUN').some((r) => /npm run build/.test(r.args)));
    expect(build?.name).toBeTruthy();
    expect(ops(build as DockerStage, 'RUN').some((r) => /npm ci(?!.*--omit=dev)/.test(r.args))).toBe(true);

    const copies = ops(final, 'COPY').map((c) => copyOf(c.args));
    const modules = copies.find((c) => c.sources.some((s) => s.includes('node_modules')));
    expect(modules?.from).toBeTruthy();
    const depsStage = stageNamed(modules?.from as string) as DockerStage;
    expect(ops(depsStage, 'RUN').some((r) => /npm ci\b.*--omit=dev/.test(r.args))).toBe(true);
    expect(copies.find((c) => c.sources.some((s) => s.endsWith('/dist')))?.from).toBe(build?.name);
    // No source tree, tests or whole build context in the runtime image.
    for (const c of copies.filter((c) => !c.from)) {
      expect(c.sources).not.toContain('.');
      expect(c.sources.some((s) => /^(src|test|bench)\b/.test(s))).toBe(false);
    }
    expect(ops(final, 'RUN').some((r) => /npm (ci|install)(?!.*--omit=dev)/.test(r.args))).toBe(false);
    // Small image: the compiler that valibot drags in as an optional peer is removed.
    expect(
      ops(depsStage, 'RUN').some((r) =>
        /rm -rf node_modules\/typescript node_modules\/@typescript/.test(r.args),
      ),
    ).toBe(true);
  });

  it('ships every Lua script next to the module that loads it (src/lua)', () => {
    const build = dockerfile.stages.find((s) => ops(s, 'RUN').some((r) => /npm run build/.test(r.args)));
    // The image build checks the folder after `npm run build`, which copies it (package.json).
    expect(
      ops(build as DockerStage, 'RUN').some((r) =>
        /npm run build && ls dist\/lua\/\*\/\*\.lua\b/.test(r.args),
      ),
    ).toBe(true);
    const buildScript = (JSON.parse(repoFile('package.json')) as { scripts: Record<string, string> }).scripts
      .build;
    expect(buildScript).not.toMatch(/worker\/lua/);
    expect(buildScript).toMatch(/'lua'/);
    expect(filesUnder('src/worker').filter((f) => f.endsWith('.lua'))).toEqual([]);
    for (const dir of ['src/lua']) {
      const lua = filesUnder(dir).filter((f) => f.endsWith('.lua'));
      expect(lua.length, dir).toBeGreaterThan(0);
      // test/global-setup.ts ran `npm run build`: what it copied is what the image gets.
      for (const f of lua) expect(repoHas(f.replace(/^src\//, 'dist/')), f).toBe(true);
    }
  });

  it('runs as a non-root user', () => {
    const user = ops(final, 'USER').at(-1)?.args;
    expect(user).toBeTruthy();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
  });

  it('has a HEALTHCHECK that runs the shipped health check script', () => {
    const hc = ops(final, 'HEALTHCHECK').at(-1)?.args ?? '';
    const cmd = /CMD\s+(\[.*\])\s*$/.exec(hc)?.[1];
    expect(cmd).toBeTruthy();
    expect(JSON.parse(cmd as string)).toEqual(['node', '/app/deploy/healthcheck.mjs']);
    const copied = ops(final, 'COPY')
      .map((c) => copyOf(c.args))
      .find((c) => c.sources.includes('deploy/healthcheck.mjs'));
    expect(copied?.dest).toBe('./deploy/healthcheck.mjs');
    expect(ops(final, 'WORKDIR').at(-1)?.args).toBe('/app');
    expect(repoHas('deploy/healthcheck.mjs')).toBe(true);
  });

  it('has ENTRYPOINT ["offboard"] backed by the compiled CLI', () => {
    expect(JSON.parse(ops(final, 'ENTRYPOINT').at(-1)?.args ?? 'null')).toEqual(['offboard']);
    expect(
      ops(final, 'RUN').some((r) => /ln -s \/app\/dist\/cli\.js \/usr\/local\/bin\/offboard/.test(r.args)),
    ).toBe(true);
    expect(JSON.parse(repoFile('package.json')).bin).toEqual({ offboard: 'dist/cli.js' });
    expect(repoFile('src/cli.ts').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('bakes in no secrets', () => {
    for (const stage of dockerfile.stages) {
      for (const i of stage.instructions.filter((i) => i.op === 'ENV' || i.op === 'ARG')) {
        expect(i.args).not.toMatch(/SECRET|PASSWORD|TOKEN|API_KEYS|CERTIFICATE|REDIS_URL/i);
      }
      for (const c of ops(stage, 'COPY')) expect(c.args).not.toMatch(/\.env\b|\.pem\b|\.pfx\b/);
    }
  });

  it('copies only files that exist and that .dockerignore lets through', () => {
    const patterns = dockerignorePatterns();
    for (const stage of dockerfile.stages) {
      for (const c of ops(stage, 'COPY').map((c) => copyOf(c.args))) {
        if (c.from) continue;
        for (const s of c.sources) {
          expect(repoHas(s), s).toBe(true);
          expect(dockerIgnored(patterns, s), s).toBe(false);
        }
      }
    }
    expect(dockerIgnored(patterns, 'src/lua/pacer/acquire.lua')).toBe(false);
    expect(dockerIgnored(patterns, 'src/lua/guard/approve.lua')).toBe(false);
  });
});

describe('.dockerignore', () => {
  const patterns = dockerignorePatterns();
  it('keeps dependencies, build output, git history, artifacts and local secrets out of the context', () => {
    for (const path of [
      'node_modules/bullmq/package.json',
      'dist/cli.js',
      '.git/HEAD',
      'test-artifacts/faults/x.log',
      '.env',
      '.env.production',
      'test/config/config.test.ts',
    ]) {
      expect(dockerIgnored(patterns, path), path).toBe(true);
    }
    expect(dockerIgnored(patterns, '.env.example')).toBe(false);
    expect(dockerIgnored(patterns, 'package-lock.json')).toBe(false);
  });
});

describe('production dependencies are enough at run time', () => {
  it('every package imported by dist/ and the health check is a runtime dependency', () => {
    const pkg = JSON.parse(repoFile('package.json')) as { dependencies: Record<string, string> };
    const allowed = new Set([...Object.keys(pkg.dependencies), ...builtinModules]);
    const files = [...filesUnder('dist').filter((f) => f.endsWith('.js')), 'deploy/healthcheck.mjs'];
    expect(files.length).toBeGreaterThan(20);
    const missing = new Set<string>();
    const seen = new Set<string>();
    for (const f of files) {
      const text = repoFile(f);
      for (const m of text.matchAll(
        /(?:^|[\s;])(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm,
      )) {
        const spec = (m[1] ?? m[2] ?? m[3]) as string;
        if (spec.startsWith('.') || spec.startsWith('node:')) continue;
        const name = spec.startsWith('@')
          ? spec.split('/').slice(0, 2).join('/')
          : (spec.split('/')[0] as string);
        seen.add(name);
        if (!allowed.has(name)) missing.add(`${name} (in ${f})`);
      }
    }
    expect([...missing]).toEqual([]);
    // The scan really sees the imports (a broken pattern would pass vacuously).
    for (const name of ['bullmq', 'ioredis', 'fastify', '@azure/msal-node'])
      expect(seen.has(name), name).toBe(true);
  });
});
