import t from 'tap';
import Value from 'typebox/value';
import { concertDecider } from '../concert/index.ts';
import { domainEventSchemas, upcasters, type DomainEvent } from '../index.ts';
import { scheduleConcert, holdByClass, VIP, onSale } from '../../test/support/concert-fixtures.ts';
import { fold } from './decider.ts';
import { EventMetadataSchema, stampEvents } from './event.ts';

t.test('stamped events carry valid metadata from the command context', async (t) => {
  let next = 0;
  const ids = ['3f1d6c8e-2a4b-4c5d-8e9f-0a1b2c3d4e5f', '4f1d6c8e-2a4b-4c5d-8e9f-0a1b2c3d4e5f'];
  const events = concertDecider.decide(scheduleConcert(), concertDecider.initialState());
  const stamped = stampEvents(
    events,
    { correlationId: 'req-7', causationId: 'req-7', actorId: 'admin-1', occurredAt: '2026-12-01T10:00:00.000Z' },
    () => ids[next++] ?? 'exhausted',
    (type) => upcasters.currentVersion(type),
  );
  t.equal(stamped.length, 2);
  t.strictSame(stamped.map((e) => e.metadata.event_id), ids);
  for (const event of stamped) {
    t.ok(Value.Check(EventMetadataSchema, event.metadata), `${event.type} metadata matches its schema`);
    t.equal(event.metadata.actor_id, 'admin-1');
  }
  t.notOk(Value.Check(EventMetadataSchema, { ...stamped[0]?.metadata, event_id: 'not-a-uuid' }), 'the schema rejects a bad id');
});

t.test('decided events match their own schemas, and the schemas reject a wrong shape', async (t) => {
  const history = onSale();
  const decided: DomainEvent[] = [
    ...history,
    ...concertDecider.decide(holdByClass('b1', 'u1', [{ ticket_class_id: VIP, quantity: 2 }]), fold(concertDecider, history)),
  ];
  for (const event of decided) {
    const schema = domainEventSchemas.get(event.type);
    t.ok(schema && Value.Check(schema, event), `${event.type} is valid`);
  }
  const seatsHeld = domainEventSchemas.get('SeatsHeld');
  t.ok(seatsHeld);
  if (seatsHeld) {
    const held = decided.at(-1);
    t.notOk(Value.Check(seatsHeld, { ...held, data: { ...held?.data, total_price: 1.5 } }), 'money must be an integer');
    t.notOk(Value.Check(seatsHeld, { ...held, data: { ...held?.data, extra: 1 } }), 'unknown fields are refused');
  }
  t.equal(domainEventSchemas.size, 46, 'every event type has a schema');
});
