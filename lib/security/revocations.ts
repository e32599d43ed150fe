import type { ExpiringKeys } from './expiring-keys.ts';

/** Token ids revoked at logout, remembered until the token would have expired anyway. */
export class RevocationList {
  constructor(private readonly keys: ExpiringKeys) {}

  async revoke(tokenId: string, expiresAtMs: number): Promise<void> {
    await this.keys.set(`revoked:${tokenId}`, expiresAtMs);
  }

  async isRevoked(tokenId: string): Promise<boolean> {
    return (await this.keys.get(`revoked:${tokenId}`)) !== null;
  }
}
