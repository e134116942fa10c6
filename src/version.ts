// The product version: package.json's, read once. The API's OpenAPI document and `offboard --version`
// both report it.
import { createRequire } from 'node:module';

function read(): string {
  try {
    // src/version.ts and dist/version.js both sit one level below package.json.
    return (createRequire(import.meta.url)('../package.json') as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

export const VERSION: string = read();
