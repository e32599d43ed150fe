/** Usernames are unique case-insensitively: "Rina.K" and "rina.k" are one name. */
export function normalizeUsername(username: string): string {
  return username.trim().toLowerCase();
}

/** Addresses compare without surrounding space and without case. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * Names that belong to the operators: `admin` is the account BOXOFFICE_ADMIN_PASSWORD makes, the
 * others read as the service's own voice. Nobody registers them, in any case.
 */
const RESERVED_USERNAMES: ReadonlySet<string> = new Set(['admin', 'administrator', 'root', 'system', 'staff', 'support']);

export function isReservedUsername(username: string): boolean {
  return RESERVED_USERNAMES.has(normalizeUsername(username));
}
