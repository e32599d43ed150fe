/** Tells people from bots at registration. Adapters: none (embedded default), an HTTP siteverify service. */
export interface Captcha {
  /** Whether a token must come with the request at all. */
  readonly required: boolean;
  /** True when the service vouches for the token; throws when the service cannot be asked. */
  verify(token: string, remoteIp: string): Promise<boolean>;
}

/** The embedded default: no CAPTCHA service, every request passes. */
export const noCaptcha: Captcha = { required: false, verify: async () => true };
