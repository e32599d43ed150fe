export interface OutgoingMail {
  /** The user the mail is for: what the mailer keeps of it is found and forgotten by this, whatever the address. */
  readonly userId: string;
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
  /**
   * Deletes what the mailer keeps of mail to this user (a forgotten one), if it keeps any: every
   * mail sent for them, to whichever address; `addresses` also catches mail kept before mail
   * carried its user.
   */
  forget?(userId: string, addresses: readonly string[]): Promise<void>;
}
