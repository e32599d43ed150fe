import type { ExpiringKeys } from './expiring-keys.ts';

/** Prefix of revoked token ids in the expiring keys. */
export const REVOKED_PREFIX = 'revoked:';

/** Token ids revoked at logout, remembered until the token would have expired anyway. */
export class RevocationList {
  constructor(private readonly keys: ExpiringKeys) {}

  async revoke(tokenId: string, expiresAtMs: number): Promise<void> {
    await this.keys.set(`${REVOKED_PREFIX}${tokenId}`, expiresAtMs);
  }

  async isRevoked(tokenId: string): Promise<boolean> {
    return (await this.keys.get(`${REVOKED_PREFIX}${tokenId}`)) !== null;
  }
}
