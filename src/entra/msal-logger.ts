// MSAL's own log lines go to our pino logger: warnings and errors only, never personal data.
import { LogLevel, type NodeSystemOptions } from '@azure/msal-node';
import type { Logger } from '../log.js';
import { scrub } from './map-error.js';

/** @param secrets values scrubbed from every line, in case a server echoes one back */
export function msalLoggerOptions(
  logger?: Logger,
  secrets: () => readonly string[] = () => [],
): NonNullable<NodeSystemOptions['loggerOptions']> {
  const log = logger?.child({ component: 'msal' });
  return {
    logLevel: LogLevel.Warning,
    piiLoggingEnabled: false,
    loggerCallback(level, message, containsPii) {
      if (!log || containsPii) return;
      if (level === LogLevel.Error) log.error(scrub(message, secrets()));
      else if (level === LogLevel.Warning) log.warn(scrub(message, secrets()));
    },
  };
}
