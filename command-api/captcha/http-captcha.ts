import type { Captcha } from './captcha.ts';

/**
 * hCaptcha, reCAPTCHA, Turnstile and their kin share one protocol: POST the secret, the client's
 * token and its address as a form to the siteverify URL, and read `{success}`.
 */
export class HttpCaptcha implements Captcha {
  readonly required = true;

  constructor(
    private readonly verifyUrl: string,
    private readonly secret: string,
    private readonly timeoutMs = 5_000,
  ) {}

  async verify(token: string, remoteIp: string): Promise<boolean> {
    const response = await fetch(this.verifyUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ secret: this.secret, response: token, remoteip: remoteIp }),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (!response.ok) throw new Error(`CAPTCHA service answered ${response.status}`);
    const body = (await response.json()) as { success?: unknown };
    return body.success === true;
  }
}
