// Network names and address ranges the API trusts: the Host names it answers to (API_PUBLIC_HOSTS)
// and the proxies whose X-Forwarded-For it believes (API_TRUSTED_PROXIES). Each bad entry is named
// by its position and echoed (neither holds a secret).
import { isIP } from 'node:net';
import { z } from 'zod';

/** A DNS name (labels of letters, digits, hyphens; a leading `*.` is not allowed) or an IP literal. */
const HOST_NAME =
  /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** Lower case, brackets kept for IPv6 (`[2001:db8::1]`), no port: how hostOf() (api/auth/host.ts) reads Host. */
export function normaliseHostName(raw: string): string | null {
  const s = raw.trim().toLowerCase();
  if (s.startsWith('[') && s.endsWith(']')) return isIP(s.slice(1, -1)) === 6 ? s : null;
  if (isIP(s) === 6) return `[${s}]`;
  if (isIP(s) === 4) return s;
  return HOST_NAME.test(s) && !/^\d+(\.\d+)*$/.test(s) ? s : null;
}

/** Comma-separated host names without scheme, port or path, e.g. `offboard.contoso.com,offboard-api`. */
export const hostList = () =>
  z.string().transform((raw, ctx): string[] => {
    const out: string[] = [];
    raw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
      .forEach((entry, i) => {
        const name = normaliseHostName(entry);
        if (name === null) {
          ctx.addIssue({
            code: 'custom',
            message: `entry ${i + 1} must be a host name or IP address without scheme, port or path, such as offboard.contoso.com (got "${entry}")`,
          });
          return;
        }
        if (!out.includes(name)) out.push(name);
      });
    return out;
  });

/** An address range: `10.0.0.0/8`, `fd00::/8`, or one address (a /32 or /128). Null when invalid. */
export function parseCidr(raw: string): string | null {
  const [addr = '', bits, extra] = raw.trim().split('/');
  const family = isIP(addr);
  if (family === 0 || extra !== undefined) return null;
  const max = family === 4 ? 32 : 128;
  if (bits === undefined) return `${addr}/${max}`;
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return null;
  return `${addr}/${Number(bits)}`;
}

/** Comma-separated CIDRs or addresses, e.g. `10.0.0.0/8,fd00::/8`. */
export const cidrList = () =>
  z.string().transform((raw, ctx): string[] => {
    const out: string[] = [];
    raw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
      .forEach((entry, i) => {
        const cidr = parseCidr(entry);
        if (cidr === null) {
          ctx.addIssue({
            code: 'custom',
            message: `entry ${i + 1} must be an IP address or CIDR range such as 10.0.0.0/8 or fd00::/8 (got "${entry}")`,
          });
          return;
        }
        out.push(cidr);
      });
    return out;
  });
