/**
 * A MariaDB primary with replicas, by real (GTID, row-based) replication, on free ports with
 * their data in temp dirs. The replicas are read-only and reached as `reader`, an account that
 * may only SELECT: anything that tries to write there fails.
 */
import knex from 'knex';
import { startMariaDb, type ManagedServer } from './servers.ts';

export interface ReplicatedMariaDb {
  readonly primary: ManagedServer;
  readonly replicas: readonly ManagedServer[];
  /** Creates `database` on the primary (it replicates); URLs of it on the primary and, as `reader`, on each replica. */
  database(name: string): Promise<{ primaryUrl: string; replicaUrls: string[] }>;
  /** Runs SQL as root on a server (STOP SLAVE, START SLAVE, status queries). */
  sql<T = unknown>(server: ManagedServer, statement: string): Promise<T[]>;
  stop(): Promise<void>;
}

async function sql<T>(server: ManagedServer, statement: string): Promise<T[]> {
  const db = knex({ client: 'mysql2', connection: server.url, pool: { min: 0, max: 1 } });
  try {
    const [rows] = (await db.raw(statement)) as [T[]];
    return rows;
  } finally {
    await db.destroy();
  }
}

export async function startReplicatedMariaDb(replicaCount: number): Promise<ReplicatedMariaDb> {
  const primary = await startMariaDb({ settings: ['server_id=1', 'log_bin=primary-bin', 'binlog_format=ROW'] });
  const replicas: ManagedServer[] = [];
  try {
    for (let i = 0; i < replicaCount; i++) {
      replicas.push(await startMariaDb({ settings: [`server_id=${i + 2}`, 'read_only=1', 'relay_log=replica-relay'] }));
    }
    for (const replica of replicas) {
      await sql(replica, `CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=${primary.port}, MASTER_USER='root', MASTER_PASSWORD='', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1`);
      await sql(replica, 'START SLAVE');
    }
    // Created on the primary after the replicas started following it: they get it too.
    await sql(primary, "CREATE USER 'reader'@'%' IDENTIFIED BY 'reader'");
    await sql(primary, "GRANT SELECT ON *.* TO 'reader'@'%'");
  } catch (error) {
    await Promise.all([primary, ...replicas].map((server) => server.stop()));
    throw error;
  }
  return {
    primary,
    replicas,
    sql,
    database: async (name) => {
      await sql(primary, `CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
      return {
        primaryUrl: `${primary.url}/${name}`,
        replicaUrls: replicas.map((replica) => `mysql://reader:reader@127.0.0.1:${replica.port}/${name}`),
      };
    },
    stop: async () => {
      await Promise.all([primary, ...replicas].map((server) => server.stop()));
    },
  };
}
