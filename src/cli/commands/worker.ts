// `offboard worker`: runs one worker process until SIGTERM/SIGINT, then drains and exits 0.
import type { Command } from 'commander';
import { parseBool } from '../../config/parse.js';
import { TokenAcquisitionError } from '../../entra/errors.js';
import { startWorker } from '../../host/run-process.js';
import type { TokenProvider } from '../../interfaces.js';
import { createLogger } from '../../log.js';
import { UsageError } from '../errors.js';
import { action, config } from '../run.js';

interface WorkerOptions {
  concurrency?: string;
}

/** In dry run no token is ever needed; without credentials the provider only explains why. */
const noCredentials: TokenProvider = {
  async getToken() {
    throw new TokenAcquisitionError(
      'dry run without Azure credentials: no token available',
      'not_configured',
      false,
    );
  },
};

export function configure(cmd: Command): void {
  cmd
    .option('--concurrency <n>', 'jobs processed at once by this process (default WORKER_CONCURRENCY)')
    .addHelpText(
      'after',
      '\nEnvironment: REDIS_URL, QUEUE_PREFIX, GRAPH_BASE_URL, AZURE_* credentials, WORKER_CONCURRENCY,\n' +
        'GRAPH_RATE_LIMIT, GRAPH_RATE_HEADROOM, GRAPH_TIMEOUT, JOB_ATTEMPTS, RETRY_IN_CALL, RETRY_BASE, RETRY_CAP,\n' +
        'THROTTLE_WAIT_CAP, CIRCUIT_FORBIDDEN_THRESHOLD, CIRCUIT_FORBIDDEN_WINDOW, SHUTDOWN_TIMEOUT,\n' +
        'WORKER_STALLED_INTERVAL, WORKER_LOCK_DURATION, DRY_RUN (no credentials needed), LOG_LEVEL.',
    )
    .action(
      action(async (opts: WorkerOptions) => {
        let concurrency: number | undefined;
        if (opts.concurrency !== undefined) {
          concurrency = Number(opts.concurrency);
          if (!/^\d+$/.test(opts.concurrency) || concurrency < 1 || concurrency > 1000) {
            throw new UsageError('--concurrency must be a whole number from 1 to 1000');
          }
        }
        const dryRun = parseBool(process.env.DRY_RUN ?? '') === true;
        const cfg = config({ needAuth: !dryRun });
        const logger = createLogger({ level: cfg.logLevel, name: 'offboard-worker' });
        const hasCredentials = !!(
          cfg.auth.tenantId &&
          cfg.auth.clientId &&
          (cfg.auth.credential || cfg.auth.mode === 'delegated')
        );
        const running = await startWorker(cfg, {
          logger,
          concurrency,
          ...(dryRun && !hasCredentials ? { tokenProvider: noCredentials } : {}),
          onFatal: () => {
            logger.flush();
            setTimeout(() => process.exit(1), 100);
          },
        });
        const signal = await new Promise<NodeJS.Signals>((resolve) => {
          process.once('SIGTERM', () => resolve('SIGTERM'));
          process.once('SIGINT', () => resolve('SIGINT'));
        });
        logger.info({ signal }, 'shutting down: no new jobs, waiting for jobs in flight');
        const forced = () => {
          logger.warn(
            'second signal: exiting without waiting for jobs in flight (stall recovery takes them over)',
          );
          logger.flush();
          process.exit(1);
        };
        process.once('SIGTERM', forced);
        process.once('SIGINT', forced);
        await running.close();
        await new Promise<void>((resolve) => logger.flush(() => resolve()));
        process.exit(0);
      }),
    );
}
