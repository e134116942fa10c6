// Structured logs. Secrets and tokens are redacted by path so a careless log call cannot leak them.
import { type Logger, pino } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'token',
  'accessToken',
  'access_token',
  'refresh_token',
  'refreshToken',
  'id_token',
  'client_secret',
  'clientSecret',
  'secret',
  'password',
  'authorization',
  'apiKey',
  '*.token',
  '*.accessToken',
  '*.access_token',
  '*.refresh_token',
  '*.client_secret',
  '*.clientSecret',
  '*.secret',
  '*.password',
  '*.authorization',
  '*.apiKey',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'headers.authorization',
];

export function createLogger(opts: { level?: string; name?: string; destination?: number } = {}): Logger {
  return pino(
    {
      level: opts.level ?? process.env.LOG_LEVEL ?? 'info',
      name: opts.name ?? 'offboard',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
    },
    pino.destination({ dest: opts.destination ?? 1, sync: false }),
  );
}
