import type { Command } from 'commander';
import { startApi } from '../../api/server.js';
import { createLogger } from '../../log.js';
import { action, config } from '../run.js';

// `offboard api`: the HTTP API, dashboard, status page and metrics on API_PORT. Never calls Graph.
export function configure(cmd: Command): void {
  cmd.action(
    action(async () => {
      const cfg = config({ needApi: true });
      const logger = createLogger({ level: cfg.logLevel, name: 'offboard-api' });
      const api = await startApi(cfg, { logger });
      logger.info(
        { url: api.url, dashboard: `${api.url}/dashboard`, docs: `${api.url}/docs` },
        'offboard API listening',
      );
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, 'shutting down: finishing in-flight requests');
        // In-flight requests get SHUTDOWN_TIMEOUT to finish; then we exit regardless.
        setTimeout(() => process.exit(1), cfg.worker.shutdownTimeoutMs).unref();
        api.close().then(
          () => {
            logger.flush();
            process.exit(0);
          },
          (err: unknown) => {
            logger.error({ err }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    }),
  );
}
