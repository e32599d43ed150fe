/**
 * The printable ticket page as a person's browser shows and prints it: Debian's Chromium, headless,
 * loads it from a listening server with the buyer's token, and prints it to PDF. One ticket per
 * printed page, each with its QR code as inline SVG; holder names that look like markup stay text.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import t from 'tap';
import { testApp } from '../../test/support/app.ts';
import { adminToken, createConcert, ktp } from '../../test/support/booking.ts';
import { paidBooking } from '../../test/support/door.ts';
import { secret } from '../../test/support/users.ts';
import { TICKET_PAGE_CSP } from '../tickets/ticket-page.ts';

const CHROMIUM = '/usr/bin/chromium';

/** Pages of a PDF as Chromium writes it: one `/Type /Page` object each (the tree's nodes are `/Pages`). */
function pdfPages(pdf: Buffer): number {
  return pdf.toString('latin1').match(/\/Type\s*\/Page(?![a-zA-Z])/g)?.length ?? 0;
}

t.test('the printable page: one ticket per page, a QR code each, names escaped', { timeout: 60_000 }, async (t) => {
  t.ok(existsSync(CHROMIUM), `${CHROMIUM} is installed (Debian package chromium; test/harness/install-servers.sh installs it)`);
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false' }, { reactors: true });
  made.services.projector.start();
  const admin = await adminToken(made);
  const concert = await createConcert(made.app, admin, [{ name: 'Festival <i>A</i>', price: 500_000, total_seats_in_class: 10 }], { name: 'Konser "Malam" & <b>Minggu</b>' });
  const holders = [
    { full_name: secret('Sari <script>window.pwned = 1</script> Dewi'), ktp_number: ktp() },
    { full_name: secret("Budi <img src=x onerror=\"window.pwned = 2\"> O'Neil"), ktp_number: ktp() },
    { full_name: secret('Wulan & Sons'), ktp_number: ktp() },
  ];
  const paid = await paidBooking(made, concert.id, concert.ticket_classes[0]?.id ?? '', 3, { ticket_holder_info: holders });
  const position = await made.services.shared.store.headPosition();
  const base = await made.app.listen({ host: '127.0.0.1', port: 0 });

  const profile = await mkdtemp(join(tmpdir(), 'boxoffice-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    extraHTTPHeaders: { authorization: `Bearer ${paid.user.token}` },
  });
  t.teardown(async () => {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  });
  const page = await context.newPage();
  const answer = await page.goto(`${base}/api/v1/bookings/${paid.bookingId}/tickets.html?min_position=${position}`);
  t.equal(answer?.status(), 200);
  t.match(answer?.headers()['content-type'], /^text\/html/);
  t.equal(answer?.headers()['content-security-policy'], TICKET_PAGE_CSP, 'no script, nothing fetched');

  t.equal(await page.locator('section.ticket').count(), 3, 'one section per ticket');
  t.equal(await page.locator('section.ticket .qr svg').count(), 3, 'each with its QR code as inline SVG');
  // Runs in the page; this project's TypeScript has no DOM library, so the page's window is typed here.
  const breaks = await page.locator('section.ticket').evaluateAll((sections: unknown[]) => {
    const view = globalThis as unknown as { getComputedStyle(element: unknown): { breakAfter: string } };
    return sections.map((section) => view.getComputedStyle(section).breakAfter);
  });
  t.same(breaks, ['page', 'page', 'auto'],
    'a page break after every ticket but the last');
  t.same(await page.locator('.holder').allTextContents(), holders.map((holder) => holder.full_name), 'names that look like markup are shown as typed');
  t.same(await page.locator('h1').allTextContents(), Array(3).fill('Konser "Malam" & <b>Minggu</b>'));
  t.equal(await page.locator('script, img, b, i').count(), 0, 'no element came from a name');
  t.equal(await page.evaluate<unknown>('typeof window.pwned'), 'undefined', 'nothing ran');
  const codes = await page.locator('.code').allTextContents();
  t.same(codes.map((code) => made.services.command.api.ticketCodes.verify(code).t), paid.seats.map((seat) => seat.id), 'the codes printed are the tickets\'');

  const pdf = await page.pdf({ format: 'A4', printBackground: true });
  t.equal(pdfPages(pdf), 3, 'printed: one ticket per page');
});
