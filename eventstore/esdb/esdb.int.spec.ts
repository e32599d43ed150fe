/**
 * The contract on a real EventStoreDB. No EventStoreDB server can be installed on the build
 * machines, so this runs only when EVENTSTORE_URL names one (say `esdb://localhost:2113?tls=false`
 * from docker-compose.yml). Each test uses streams of its own in the shared server.
 */
import t from 'tap';
import { eventStoreContract } from '../contract.ts';
import { EsdbEventStore } from './esdb-event-store.ts';

const url = process.env.EVENTSTORE_URL;

if (!url) {
  t.test('EventStoreDB contract', { skip: 'set EVENTSTORE_URL to run it' }, () => undefined);
} else {
  eventStoreContract(t, async (t) => {
    const store = EsdbEventStore.connect(url);
    t.teardown(() => store.close());
    return store;
  });
}
