// The frame around every console page: navigation, who is signed in, the sign-out form, the
// result of the last action. Viewers get the same pages without any action controls.
import type { Role } from '../../config/api-keys.js';
import type { Principal } from '../auth/keys.js';
import { type Html, html } from './html.js';
import type { Flash } from './session.js';

export interface View {
  principal: Principal;
  csrf: string;
  flash?: Flash;
  /** The page's path, for aria-current in the navigation. */
  path: string;
  /** A tenants file is configured: the Tenants section is shown. */
  tenants?: boolean;
}

const READERS: readonly Role[] = ['viewer', 'operator'];
/** Each section with the roles its routes admit (the routes' `access` is what enforces it). */
const NAV: [string, string, readonly Role[]][] = [
  ['/console', 'Overview', READERS],
  ['/console/lookup', 'Leaver lookup', READERS],
  ['/console/batches', 'Held batches', READERS],
  ['/console/dead-letters', 'Dead letters', READERS],
  ['/console/schedules', 'Schedules', READERS],
  ['/console/submit', 'Submit leavers', ['producer']],
];
/** With a tenants file; the only section a tenant-scoped key may use (the others refuse it). */
const TENANTS_NAV: [string, string, readonly Role[]] = ['/console/tenants', 'Tenants', READERS];

/** Where a role starts: producers see only their submit page, tenant-scoped keys their tenants. */
export function homeOf(role: Role | undefined, scoped = false): string {
  if (scoped) return '/console/tenants';
  return role === 'producer' ? '/console/submit' : '/console';
}

export function canAct(view: Pick<View, 'principal'>): boolean {
  return view.principal.role === 'operator';
}

export function csrfField(view: Pick<View, 'csrf'>): Html {
  return html`<input type="hidden" name="_csrf" value="${view.csrf}">`;
}

function current(path: string, href: string): boolean {
  return href === '/console' ? path === '/console' : path === href || path.startsWith(`${href}/`);
}

export function layout(
  view: View,
  title: string,
  body: Html,
  opts: { refreshSeconds?: number } = {},
): string {
  const scoped = (view.principal.tenants?.length ?? 0) > 0;
  const sections = scoped
    ? [TENANTS_NAV]
    : view.tenants
      ? [...NAV.slice(0, 1), TENANTS_NAV, ...NAV.slice(1)]
      : NAV;
  const nav = sections
    .filter(([, , roles]) => roles.includes(view.principal.role))
    .map(
      ([href, label]) =>
        html`<li><a href="${href}"${current(view.path, href) ? html` aria-current="page"` : ''}>${label}</a></li>`,
    );
  const flash = view.flash
    ? html`<p class="flash ${view.flash.kind}" role="${view.flash.kind === 'error' ? 'alert' : 'status'}">${view.flash.text}</p>`
    : '';
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
${opts.refreshSeconds ? html`<meta http-equiv="refresh" content="${opts.refreshSeconds}">` : ''}
<title>${title} · offboard console</title>
<link rel="stylesheet" href="/console/assets/console.css">
</head><body>
<a class="skip" href="#main">Skip to content</a>
<header>
<a class="brand" href="${homeOf(view.principal.role, scoped)}">offboard console</a>
<nav aria-label="Console sections"><ul>${nav}</ul></nav>
<div class="who"><span>Signed in as <strong>${view.principal.name}</strong> (${view.principal.role})</span>
<form method="post" action="/console/sign-out">${csrfField(view)}<button type="submit">Sign out</button></form></div>
</header>
<main id="main" tabindex="-1">
<h1>${title}</h1>
${flash}
${body}
</main></body></html>`.text;
}

/** A page outside the signed-in frame (sign-in, errors before a session exists). */
export function bare(title: string, body: Html): string {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title} · offboard console</title>
<link rel="stylesheet" href="/console/assets/console.css">
</head><body><main id="main">${body}</main></body></html>`.text;
}
