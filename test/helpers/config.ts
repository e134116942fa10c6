// Builds a validated Config for tests from a few overrides, through the real loader.
import { type Config, type LoadOptions, loadConfig } from '../../src/config/load.js';

export function testConfig(env: Record<string, string | undefined>, opts: LoadOptions = {}): Config {
  return loadConfig({ LOG_LEVEL: 'silent', ...env }, opts);
}
