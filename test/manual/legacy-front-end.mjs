// A manual check, not part of `npm test` (it needs the older front end's build, from GitHub):
// drives that front end, built unchanged and served at FRONT_END_URL (default :5173), through
// register → verify (the mail's link) → login → browse → book → pay (the sandbox's signed webhook)
// → my bookings → booking detail → profile → logout, against `npm start` with
// LEGACY_PORTS=8080,8081,8082. How to run it: test/manual/README.md.
import { createHmac } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const FE = process.env.FRONT_END_URL ?? 'http://localhost:5173';
const API = process.env.BOXOFFICE_URL ?? 'http://localhost:3000';
const SECRET = process.env.PAYMENT_WEBHOOK_SECRET;
const results = [];
const step = async (name, work) => {
  try {
    const detail = await work();
    results.push({ step: name, ok: true, detail });
    console.log(`PASS ${name}${detail ? ` — ${detail}` : ''}`);
  } catch (error) {
    results.push({ step: name, ok: false, detail: String(error?.message ?? error) });
    console.log(`FAIL ${name} — ${String(error?.message ?? error).split('\n')[0]}`);
  }
};

const userDir = mkdtempSync(join(tmpdir(), 'legacy-fe-chromium-'));
const context = await chromium.launchPersistentContext(userDir, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
const page = context.pages()[0] ?? await context.newPage();
const apiLog = [];
page.on('response', async (response) => {
  const url = response.url();
  if (/localhost:808[012]/.test(url)) apiLog.push(`${response.request().method()} ${url.replace(/^http:\/\/localhost:/, ':')} → ${response.status()}`);
});
page.on('pageerror', (error) => console.log(`  page error: ${error.message}`));
page.on('dialog', (dialog) => { console.log(`  dialog: ${dialog.message()}`); void dialog.accept(); });

const suffix = Date.now().toString(36);
const user = { username: `fan_${suffix}`, email: `fan_${suffix}@example.test`, password: 'Old-Front-End-2026' };
let paymentAnswer;
let bookingId;

await step('register', async () => {
  await page.goto(`${FE}/auth`);
  await page.getByText('Register here').click();
  await page.fill('input[name="username"]', user.username);
  await page.fill('input[name="email"]', user.email);
  await page.fill('input[name="password"]', user.password);
  await page.fill('input[name="confirmPassword"]', user.password);
  await page.locator('form button[type="submit"]').click();
  await page.getByText('Registration successful').waitFor({ timeout: 10_000 });
  return 'page says "Registration successful! Please log in."';
});

await step('verify: the link in the verification mail (the older front end has no step for it)', async () => {
  const { readFileSync } = await import('node:fs');
  const outbox = join(process.env.BOXOFFICE_DATA_DIR, 'mail-outbox.jsonl');
  let mail;
  for (let i = 0; i < 50 && mail === undefined; i++) {
    try { mail = readFileSync(outbox, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).reverse().find((m) => m.to === user.email); } catch {}
    if (mail === undefined) await new Promise((r) => setTimeout(r, 200));
  }
  if (mail === undefined) throw new Error('no verification mail in the outbox');
  const link = mail.text.match(/https?:\/\/\S+verify-email\?token=\S+/)?.[0];
  if (link === undefined) throw new Error(`no link in: ${mail.text}`);
  const shown = await context.newPage();
  const answer = await shown.goto(link);
  const text = (await shown.locator('body').innerText()).replace(/\s+/g, ' ').slice(0, 80);
  await shown.close();
  if (answer.status() !== 200) throw new Error(`verify link → ${answer.status()} ${text}`);
  return `GET ${link.replace(/token=.*/, 'token=…')} → 200 "${text}"`;
});

await step('login', async () => {
  await page.fill('input[name="username"]', user.username);
  await page.fill('input[name="password"]', user.password);
  await page.locator('form button[type="submit"]').click();
  await page.waitForURL('**/dashboard', { timeout: 10_000 });
  await page.getByText(`Hi, ${user.username}`).waitFor({ timeout: 10_000 });
  const cookies = await context.cookies('http://localhost:8080');
  return `on /dashboard, header "Hi, ${user.username}"; cookies: ${cookies.map((c) => c.name).join(', ')}`;
});

await step('browse: dashboard lists the active concert', async () => {
  await page.getByText('View Details & Book').first().waitFor({ timeout: 10_000 });
  const cards = await page.getByText('View Details & Book').count();
  return `${cards} concert card(s)`;
});

await step('browse: concert detail', async () => {
  await page.getByText('View Details & Book').first().click();
  await page.waitForURL(/\/concerts\/\d+$/, { timeout: 10_000 });
  await page.getByText('Proceed to Buyer Info').waitFor({ timeout: 10_000 });
  return page.url().replace(FE, '');
});

await step('book: choose 2 tickets of the first class', async () => {
  const plus = page.locator('.ticket-class-item').first().getByRole('button', { name: '+' });
  await plus.click();
  await plus.click();
  await page.getByText('Proceed to Buyer Info').click();
  await page.waitForURL(/\/bookings\/confirm\/\d+$/, { timeout: 10_000 });
  return page.url().replace(FE, '');
});

await step('book: buyer info, one ticket holder, submit', async () => {
  await page.fill('input[name="fullName"]', 'Rina Wijaya');
  await page.fill('input[name="phoneNumber"]', '081234567890');
  await page.fill('input[name="email"]', user.email);
  await page.fill('input[name="ktpNumber"]', '3201234567890123');
  await page.locator('#buyForSomeoneElse').click();
  await page.fill('input[name="ticketHolderInfo.fullName"]', 'Dewi Lestari');
  await page.fill('input[name="ticketHolderInfo.ktpNumber"]', '3201234567890999');
  await page.getByText('Submit Booking & Go to Payment').click();
  await page.waitForURL(/\/payment\/[0-9a-f-]{36}$/, { timeout: 15_000 });
  bookingId = page.url().split('/').pop();
  await page.getByText('Current Status:').waitFor({ timeout: 10_000 });
  return `booking ${bookingId}; payment page shows: ${(await page.locator('p:has-text("Current Status:")').first().innerText()).trim()}`;
});

await step('pay: credit card, the front end opens the payment', async () => {
  await page.getByRole('button', { name: 'Credit Card' }).click();
  await page.fill('#cardNumber', '4111111111111111');
  const opened = page.waitForResponse((r) => r.url().includes(':8082/api/v1/payments') && r.request().method() === 'POST', { timeout: 15_000 });
  await page.getByRole('button', { name: 'Pay Now' }).click();
  const response = await opened;
  paymentAnswer = await response.json();
  if (response.status() !== 201) throw new Error(`POST /payments → ${response.status()} ${JSON.stringify(paymentAnswer)}`);
  return `POST :8082/payments → 201, id ${paymentAnswer.id}, ${paymentAnswer.payment_method}, ${paymentAnswer.status}`;
});

await step('pay: the sandbox gateway sends its signed webhook', async () => {
  const body = JSON.stringify({ transaction_id: paymentAnswer.transaction_id, status: 'succeeded', amount: paymentAnswer.amount });
  const signature = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
  const answer = await fetch(`${API}/api/v1/payments/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-signature': signature }, body });
  if (answer.status !== 200) throw new Error(`webhook → ${answer.status} ${await answer.text()}`);
  return `webhook → 200 ${await answer.text()}`;
});

await step('pay: the payment page sees the booking confirmed (its own 5 s polling)', async () => {
  await page.getByText('Current Status: confirmed').or(page.locator('p:has-text("Current Status:"):has-text("confirmed")')).first().waitFor({ timeout: 20_000 });
  return (await page.locator('p:has-text("Current Status:")').first().innerText()).trim();
});

await step('my bookings: lists the booking, confirmed', async () => {
  await page.getByRole('link', { name: 'My Bookings' }).click();
  await page.waitForURL('**/my-bookings', { timeout: 10_000 });
  await page.getByRole('heading', { name: 'My Bookings' }).waitFor({ timeout: 10_000 });
  const heading = page.getByRole('heading', { name: `Booking ID: ${bookingId}`, exact: true });
  await heading.waitFor({ timeout: 10_000 });
  const text = await heading.locator('xpath=..').innerText();
  if (!/Status:\s*confirmed/.test(text)) throw new Error(`card says: ${text}`);
  return text.replace(/\s+/g, ' ').slice(0, 200);
});

await step('booking detail: seats and the ticket holder', async () => {
  await page.getByText('View Details').first().click();
  await page.waitForURL(/\/bookings\/[0-9a-f-]{36}$/, { timeout: 10_000 });
  await page.getByText('Name: Dewi Lestari').waitFor({ timeout: 10_000 });
  const body = (await page.locator('body').innerText()).replace(/\s+/g, ' ');
  if (body.includes('No tickets associated')) throw new Error('no tickets shown');
  return body.slice(body.indexOf('Ticket Holder'), body.indexOf('Ticket Holder') + 220);
});

await step('profile page: shows the integer id, saves unchanged (extra step)', async () => {
  await page.getByRole('button', { name: `Hi, ${user.username}` }).click();
  await page.getByText('Edit Profile').click();
  await page.waitForURL('**/profile', { timeout: 10_000 });
  await page.getByRole('button', { name: 'Update Profile' }).click();
  await page.getByText('Profile updated successfully!').waitFor({ timeout: 10_000 });
  return `id field: ${await page.locator('input[name="id"]').inputValue()}`;
});

await step('logout', async () => {
  await page.getByRole('button', { name: `Hi, ${user.username}` }).click();
  await page.getByText('Logout').click();
  await page.waitForURL('**/auth', { timeout: 10_000 });
  const cookies = await context.cookies('http://localhost:8080');
  if (cookies.some((c) => c.name === 'token')) throw new Error('the token cookie is still there');
  return 'back on /auth, no token cookie';
});

console.log('\nAPI calls seen:');
for (const line of apiLog) console.log(`  ${line}`);
await context.close();
const passed = results.filter((r) => r.ok).length;
console.log(`\n${passed} of ${results.length} steps passed`);
process.exit(passed === results.length ? 0 : 1);
