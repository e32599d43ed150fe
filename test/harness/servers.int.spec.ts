/**
 * The servers the harness hands to every spec are real and usable: MariaDB with transactions,
 * Redis with Lua scripting (the seat caches need it), NATS with JetStream.
 */
import { Redis } from 'ioredis';
import { AckPolicy, connect, StringCodec } from 'nats';
import t from 'tap';
import { freshMysql, serviceUrl, uniqueName } from '../support/services.ts';

t.test('MariaDB: a real InnoDB server with transactions', async (t) => {
  const db = await freshMysql(t);
  const [[version]] = (await db.raw('SELECT VERSION() AS v')) as [[{ v: string }]];
  t.match(version.v, /MariaDB/);
  await db.schema.createTable('seats', (table) => {
    table.string('id').primary();
    table.string('status').notNullable();
  });
  await db('seats').insert({ id: 'A-1', status: 'available' });
  await db.transaction(async (trx) => {
    await trx('seats').where({ id: 'A-1' }).update({ status: 'booked' });
    await trx('seats').insert({ id: 'A-2', status: 'available' });
  });
  await t.rejects(
    db.transaction(async (trx) => {
      await trx('seats').insert({ id: 'A-3', status: 'available' });
      await trx('seats').insert({ id: 'A-1', status: 'duplicate' });
    }),
    { code: 'ER_DUP_ENTRY' },
  );
  t.strictSame(await db('seats').orderBy('id').select('id', 'status'), [
    { id: 'A-1', status: 'booked' },
    { id: 'A-2', status: 'available' },
  ], 'the failed transaction left nothing behind');
});

t.test('Redis: commands and Lua scripts', async (t) => {
  const redis = new Redis(serviceUrl('REDIS_URL'), { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  t.teardown(() => void redis.disconnect());
  const key = uniqueName('seats');
  await redis.hset(key, 'position', '10');
  // Write only when newer than what the key holds: the shape of the seat cache's guard.
  const guarded = 'if tonumber(redis.call("HGET", KEYS[1], "position") or "-1") < tonumber(ARGV[1]) then redis.call("HSET", KEYS[1], "position", ARGV[1]) return 1 end return 0';
  t.equal(await redis.eval(guarded, 1, key, '9'), 0, 'an older position is ignored');
  t.equal(await redis.eval(guarded, 1, key, '11'), 1, 'a newer position is written');
  t.equal(await redis.hget(key, 'position'), '11');
  await redis.del(key);
});

t.test('NATS: publish/subscribe and JetStream', async (t) => {
  const nc = await connect({ servers: serviceUrl('NATS_URL') });
  t.teardown(() => nc.close());
  const codec = StringCodec();
  const subject = uniqueName('projection.position');

  const subscription = nc.subscribe(subject, { max: 1 });
  nc.publish(subject, codec.encode('42'));
  for await (const message of subscription) t.equal(codec.decode(message.data), '42');

  const jsm = await nc.jetstreamManager();
  const stream = uniqueName('POSITIONS');
  await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
  t.teardown(() => jsm.streams.delete(stream).then(() => undefined));
  const js = nc.jetstream();
  const ack = await js.publish(`${stream}.seats`, codec.encode('7'));
  t.equal(ack.seq, 1);
  await jsm.consumers.add(stream, { durable_name: 'reader', ack_policy: AckPolicy.Explicit });
  const consumer = await js.consumers.get(stream, 'reader');
  const message = await consumer.next({ expires: 5_000 });
  t.equal(message && codec.decode(message.data), '7', 'the stored message is read back');
  message?.ack();
});
