import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Mailer, OutgoingMail } from './mailer.ts';

/**
 * The embedded default's mail: one JSON object per line in $BOXOFFICE_DATA_DIR/mail-outbox.jsonl,
 * `{to, subject, text, token}`, for a developer (or a test) to read instead of an inbox.
 */
export class OutboxMailer implements Mailer {
  constructor(private readonly file: string) {}

  async send(mail: OutgoingMail): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    await appendFile(this.file, `${JSON.stringify({ to: mail.to, subject: mail.subject, text: mail.text, token: mail.token ?? null })}\n`, { mode: 0o600 });
  }

  /** Rewrites the outbox without the mail to `address` (a new file renamed over the old one). */
  async forget(address: string): Promise<void> {
    const text = await readFile(this.file, 'utf8').catch(() => null);
    if (text === null) return;
    const wanted = address.toLowerCase();
    const kept = text.split('\n').filter((line) => line !== '' && (JSON.parse(line) as { to: string }).to.toLowerCase() !== wanted);
    const next = `${this.file}.forget`;
    await writeFile(next, kept.map((line) => `${line}\n`).join(''), { mode: 0o600 });
    await rename(next, this.file);
  }
}
