import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Mailer, OutgoingMail } from './mailer.ts';

interface OutboxLine {
  readonly user_id?: string;
  readonly to: string;
}

/**
 * The embedded default's mail: one JSON object per line in $BOXOFFICE_DATA_DIR/mail-outbox.jsonl,
 * `{to, subject, text, token, user_id}`, for a developer (or a test) to read instead of an inbox.
 */
export class OutboxMailer implements Mailer {
  constructor(private readonly file: string) {}

  async send(mail: OutgoingMail): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    const line = { to: mail.to, subject: mail.subject, text: mail.text, token: mail.token ?? null, user_id: mail.userId };
    await appendFile(this.file, `${JSON.stringify(line)}\n`, { mode: 0o600 });
  }

  /**
   * Rewrites the outbox without the user's mail (a new file renamed over the old one): every line
   * that names the user, and the lines without a user (written before mail carried one) to one of
   * `addresses`.
   */
  async forget(userId: string, addresses: readonly string[]): Promise<void> {
    const text = await readFile(this.file, 'utf8').catch(() => null);
    if (text === null) return;
    const unowned = new Set(addresses.map((address) => address.toLowerCase()));
    const theirs = (line: OutboxLine): boolean => line.user_id === undefined ? unowned.has(line.to.toLowerCase()) : line.user_id === userId;
    const kept = text.split('\n').filter((line) => line !== '' && !theirs(JSON.parse(line) as OutboxLine));
    const next = `${this.file}.forget`;
    await writeFile(next, kept.map((line) => `${line}\n`).join(''), { mode: 0o600 });
    await rename(next, this.file);
  }
}
