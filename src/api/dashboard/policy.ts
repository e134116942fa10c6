// What each Bull Board route may do on our boards. Deny by default: a route Bull Board registers is
// served only when it is listed here as a read, or as the retire queue's pause/resume on the operator
// board (answered by our audited control functions, never by Bull Board's own handler). Anything a
// Bull Board upgrade adds is refused until someone classifies it here.

export type Board = 'viewer' | 'operator';

export type RoutePolicy =
  | { kind: 'read' }
  | { kind: 'pause' }
  | { kind: 'resume' }
  | { kind: 'deny'; why: string };

/** Reads that expose more than job state: Redis `INFO` (memory, clients, config) is an operator's. */
const OPERATOR_ONLY_READS = new Set(['/api/redis/stats']);

const READ_METHODS = new Set(['GET', 'HEAD']);

/**
 * Classifies one route as registered (path relative to the board's prefix, any method list).
 * Pages, static files and the JSON read API are reads; nothing else is served except pause/resume
 * of a single queue on the operator board, which the caller still restricts to the retire queue.
 */
export function dashboardRoutePolicy(board: Board, methods: readonly string[], path: string): RoutePolicy {
  const upper = methods.map((m) => m.toUpperCase());
  if (upper.every((m) => READ_METHODS.has(m))) {
    if (OPERATOR_ONLY_READS.has(path) && board !== 'operator')
      return { kind: 'deny', why: 'Redis statistics are for operators only' };
    return { kind: 'read' };
  }
  if (board === 'operator' && upper.length === 1 && upper[0] === 'PUT') {
    if (path === '/api/queues/:queueName/pause') return { kind: 'pause' };
    if (path === '/api/queues/:queueName/resume') return { kind: 'resume' };
  }
  return {
    kind: 'deny',
    why:
      board === 'viewer'
        ? 'the viewer board is read-only'
        : 'not allowed from the dashboard: it would bypass the guard, the two-person rule or the audit; use the API, the CLI or the console',
  };
}
