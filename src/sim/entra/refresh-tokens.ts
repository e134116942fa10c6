// Refresh tokens handed out to delegated sign-ins. Opaque, kept in memory; revocable all at once.
import { randomBytes } from 'node:crypto';

export interface RefreshGrant {
  clientId: string;
  upn: string;
  scopes: string[];
  generation: number;
}

export class RefreshTokenStore {
  private readonly grants = new Map<string, RefreshGrant>();
  private generation = 0;

  issue(grant: Omit<RefreshGrant, 'generation'>): string {
    const token = `sim-rt.${randomBytes(32).toString('base64url')}`;
    this.grants.set(token, { ...grant, generation: this.generation });
    return token;
  }

  /** The grant, `revoked` when revoked, or undefined when unknown. */
  lookup(token: string): RefreshGrant | 'revoked' | undefined {
    const grant = this.grants.get(token);
    if (!grant) return undefined;
    return grant.generation === this.generation ? grant : 'revoked';
  }

  revokeAll(): void {
    this.generation++;
  }
}
