/** Usernames are unique case-insensitively: "Rina.K" and "rina.k" are one name. */
export function normalizeUsername(username: string): string {
  return username.trim().toLowerCase();
}

/** Addresses compare without surrounding space and without case. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}
