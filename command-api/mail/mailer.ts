export interface OutgoingMail {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  /** The verification token the mail carries, for the embedded outbox's readers (tests, a developer). */
  readonly token?: string;
}

/** Sends mail. Adapters: the embedded outbox file, SMTP. */
export interface Mailer {
  send(mail: OutgoingMail): Promise<void>;
  close?(): Promise<void>;
  /** Deletes what the mailer keeps of mail to this address (a forgotten user's), if it keeps any. */
  forget?(address: string): Promise<void>;
}
