/**
 * A booking's tickets as images and as a page to print: the QR code of a ticket as SVG or PNG
 * (qrcode, error correction M: a printed code still scans with a crease or a smudge), and one
 * ticket per printed page with the concert, the seat, the holder and the code inline. Every value
 * that comes from a person or an admin is escaped; the page runs no script and loads nothing.
 */
import QRCode from 'qrcode';
import type { TicketView } from '../../lib/tickets/ticket-view.ts';
import type { PrintableTickets } from './ticket-reads.ts';

const QR_OPTIONS = { errorCorrectionLevel: 'M', margin: 2 } as const;

export function qrSvg(qr: string): Promise<string> {
  return QRCode.toString(qr, { ...QR_OPTIONS, type: 'svg' });
}

export function qrPng(qr: string): Promise<Buffer> {
  return QRCode.toBuffer(qr, { ...QR_OPTIONS, type: 'png', width: 512 });
}

/**
 * The page's own policy, stricter than the other pages': no script, no form, nothing fetched; the
 * styles are inline and the codes inline SVG.
 */
export const TICKET_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** `2027-02-14T12:00:00.000Z` → `2027-02-14 12:00 UTC`. */
function shownDate(iso: string): string {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(iso) ? `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC` : iso;
}

const STYLE = `
@page { size: A4; margin: 15mm; }
* { box-sizing: border-box; }
body { margin: 0; font-family: system-ui, sans-serif; color: #111; }
.ticket { break-after: page; page-break-after: always; break-inside: avoid; padding: 8mm; border: 1px solid #999; border-radius: 4mm; }
.ticket:last-of-type { break-after: auto; page-break-after: auto; }
h1 { font-size: 20pt; margin: 0 0 2mm; }
.when { margin: 0 0 6mm; font-size: 12pt; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2mm 6mm; font-size: 12pt; margin: 0 0 6mm; }
dt { font-weight: 600; }
dd { margin: 0; }
.qr svg { width: 70mm; height: 70mm; display: block; }
.void { font-size: 28pt; font-weight: 700; color: #b00; }
.code { font-family: monospace; font-size: 7pt; word-break: break-all; color: #555; }
`;

async function ticketSection(ticket: TicketView, concert: PrintableTickets['concert']): Promise<string> {
  const code = ticket.qr === null
    ? `<p class="void">${ticket.status === 'void' ? 'VOID' : 'NO CODE'}</p>`
    : `<div class="qr">${await qrSvg(ticket.qr)}</div><p class="code">${escapeHtml(ticket.qr)}</p>`;
  return `<section class="ticket" data-ticket-id="${escapeHtml(ticket.id)}">
<h1>${escapeHtml(concert?.name ?? 'Concert')}</h1>
<p class="when">${escapeHtml(concert === null ? '' : `${shownDate(concert.date)} · ${concert.venue}`)}</p>
<dl>
<dt>Class</dt><dd>${escapeHtml(ticket.ticket_class_name)}</dd>
<dt>Seat</dt><dd>${ticket.seat_number}</dd>
<dt>Holder</dt><dd class="holder">${escapeHtml(ticket.holder_name ?? '—')}</dd>
<dt>KTP</dt><dd>${escapeHtml(ticket.holder_ktp_last4 === null ? '—' : `••••${ticket.holder_ktp_last4}`)}</dd>
<dt>Status</dt><dd>${escapeHtml(ticket.status)}</dd>
</dl>
${code}
</section>`;
}

export async function ticketPage(printable: PrintableTickets): Promise<string> {
  const sections = await Promise.all(printable.tickets.map((ticket) => ticketSection(ticket, printable.concert)));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tickets · ${escapeHtml(printable.concert?.name ?? 'Concert')}</title>
<style>${STYLE}</style>
</head>
<body>
${sections.join('\n')}
</body>
</html>`;
}
