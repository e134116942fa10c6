// The shape of one Graph endpoint of the fake. Its own file so the endpoint files (users, devices,
// lifecycle) name it without importing server.ts, which imports them (no file circle).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimState } from '../state.js';

/**
 * Graph endpoints other than the retire action (reads, Lifecycle Workflows): each owns its file and
 * answers when its `match` accepts the request. Tried in order before the retire action.
 */
export interface SimRoute {
  match(method: string, path: string): boolean;
  handle(state: SimState, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void>;
}
