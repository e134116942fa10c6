// Node module hook for running openapi-typescript: it prints its types with the `typescript` JS
// API, which the project's TypeScript 7 (the native compiler) does not have. Its own imports of
// `typescript` resolve to the `typescript-5` alias (npm:typescript@5.9.x); everything else is untouched.
// Use: node --import ./test/helpers/typescript-js-api.mjs node_modules/openapi-typescript/bin/cli.js …
import { register } from 'node:module';

if (!process.env.OFFBOARD_TS_HOOK_LOADED) {
  process.env.OFFBOARD_TS_HOOK_LOADED = '1';
  register(import.meta.url, import.meta.url);
}

export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'typescript' && context.parentURL?.includes('/node_modules/openapi-typescript/')) {
    return nextResolve('typescript-5', context);
  }
  return nextResolve(specifier, context);
}
