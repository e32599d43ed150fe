/** The SMTP adapter delivers to a real SMTP server (smtp-server, on a free port). */
import { SMTPServer } from 'smtp-server';
import t from 'tap';
import { freePort } from '../../test/harness/servers.ts';
import { SmtpMailer } from './smtp.ts';

t.test('a verification mail goes out over SMTP with the configured sender', async (t) => {
  const received: { from: string; to: string[]; body: string }[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, done) {
      let body = '';
      stream.on('data', (chunk: Buffer) => (body += chunk.toString()));
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          body,
        });
        done();
      });
    },
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const mailer = new SmtpMailer(`smtp://127.0.0.1:${port}`, 'boxoffice <no-reply@tickets.example.test>');
  t.teardown(() => mailer.close());
  await mailer.send({ userId: 'u-1', to: 'rina@example.test', subject: 'Confirm your email address', text: 'Open https://tickets.example.test/verify?token=abc', token: 'abc' });

  t.equal(received.length, 1);
  t.equal(received[0]?.from, 'no-reply@tickets.example.test');
  t.strictSame(received[0]?.to, ['rina@example.test']);
  t.match(received[0]?.body, /Subject: Confirm your email address/);
  t.match(received[0]?.body, /verify\?token=abc/);
});

t.test('an unreachable SMTP server is an error the caller sees', async (t) => {
  const mailer = new SmtpMailer(`smtp://127.0.0.1:${await freePort()}`, 'boxoffice <no-reply@localhost>');
  t.teardown(() => mailer.close());
  await t.rejects(mailer.send({ userId: 'u-1', to: 'a@example.test', subject: 's', text: 't' }), /ECONNREFUSED/);
});
