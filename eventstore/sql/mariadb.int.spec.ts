import t from 'tap';
import { freshMysqlDatabase } from '../../test/support/services.ts';
import { eventStoreContract } from '../contract.ts';
import { SqlEventStore } from './sql-event-store.ts';

eventStoreContract(t, async (t) => {
  const store = await SqlEventStore.open({ client: 'mysql2', url: await freshMysqlDatabase(t) });
  t.teardown(() => store.close());
  return store;
});
