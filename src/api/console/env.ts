// What the console plugin hands each page module. Its own file so the pages import it without
// importing plugin.ts, which imports the pages (no file-import circle).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Access } from '../auth/access.js';
import type { ApiDeps } from '../deps.js';
import type { CONSOLE_CSP } from './csp.js';
import type { Html } from './html.js';
import type { Flash } from './session.js';

/** What each page module gets: the API's dependencies plus the console's helpers. */
export interface ConsoleEnv {
  deps: ApiDeps;
  /** Route config for pages every viewer may see. */
  view: { access: Access; helmet: typeof CONSOLE_CSP };
  /** Route config for actions (operators only). */
  act: { access: Access; helmet: typeof CONSOLE_CSP };
  /** Route config for submitting leavers (producers only, like POST /v1/offboardings). */
  submit: { access: Access; helmet: typeof CONSOLE_CSP };
  /** Route config for what every signed-in key needs: the landing redirect, sign-out. */
  signedIn: { access: Access; helmet: typeof CONSOLE_CSP };
  /** Route config for the public sign-in page and assets. */
  open: { access: Access; helmet: typeof CONSOLE_CSP };
  render(
    request: FastifyRequest,
    reply: FastifyReply,
    title: string,
    body: Html,
    opts?: { refreshSeconds?: number },
  ): FastifyReply;
  /** Runs an action, keeps its result (or refusal) for the next page and redirects there (303). */
  act$(
    request: FastifyRequest,
    reply: FastifyReply,
    back: string,
    run: () => Promise<string>,
  ): Promise<FastifyReply>;
  flash(request: FastifyRequest, flash: Flash): void;
  /** The hidden CSRF field for a form on this page (the token is created when missing). */
  csrf(request: FastifyRequest): Html;
  /** The signed-in key may act (operator); viewers get no action controls. */
  operator(request: FastifyRequest): boolean;
  sessionTtlMs: number;
}
