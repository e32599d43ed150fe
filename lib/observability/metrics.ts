/**
 * What /metrics tells Prometheus: HTTP latency by route, the write path (append latency,
 * conflicts retried, the batching queues), the read side (projection lag, seat-cache hits) and
 * Node's own (event loop, memory, GC). One registry per process, not prom-client's global one,
 * so tests can build many apps in one process.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { WritesConflicted, WrongExpectedRevision, type AppendResult, type EventStore, type StreamWrite } from '../../eventstore/port.ts';

/** One waiting room's figures (command-api/queue/keeper.ts computes them). */
export interface WaitingRoomFigures {
  readonly concert_id: string;
  readonly waiting: number;
  readonly admitted_last_minute: number;
  readonly passes_used: number;
  readonly passes_expired: number;
  readonly estimated_wait_seconds: number | null;
}

export class Metrics {
  readonly registry = new Registry();
  readonly #http: Histogram<'method' | 'route' | 'status_code'>;
  /** A labelled child per method, route and status: a request observes without hashing labels. */
  readonly #httpChildren = new Map<string, { observe(seconds: number): void }>();
  readonly appendSeconds: Histogram<'operation'>;
  readonly appendConflicts: Counter;
  readonly batchSize: Histogram;
  readonly availabilityReads: Counter<'source'>;
  /** Visitors this process's waiting-room keeper admitted, per concert (sum over the instances; its rate is admitted per minute). */
  readonly waitingRoomAdmitted: Counter<'concert_id'>;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.#http = new Histogram({
      name: 'boxoffice_http_request_duration_seconds',
      help: 'HTTP requests by method, route and status code',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
    this.appendSeconds = new Histogram({
      name: 'boxoffice_event_store_append_seconds',
      help: 'Appends to the event store (one stream, or several together)',
      labelNames: ['operation'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [this.registry],
    });
    this.appendConflicts = new Counter({
      name: 'boxoffice_event_store_conflicts_total',
      help: 'Appends refused because another writer appended first (each is read again and retried)',
      registers: [this.registry],
    });
    this.batchSize = new Histogram({
      name: 'boxoffice_concert_batch_commands',
      help: 'Commands decided and appended together by the per-concert batching writer',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500],
      registers: [this.registry],
    });
    this.waitingRoomAdmitted = new Counter({
      name: 'boxoffice_waiting_room_admitted_total',
      help: 'Visitors let in from a waiting room by this instance\'s keeper, per concert',
      labelNames: ['concert_id'],
      registers: [this.registry],
    });
    const reads = new Counter({
      name: 'boxoffice_availability_reads_total',
      help: 'Availability answers by where they came from: the Redis seat cache or the MySQL tables',
      labelNames: ['source'],
      registers: [this.registry],
    });
    this.availabilityReads = reads;
    new Gauge({
      name: 'boxoffice_seat_cache_hit_ratio',
      help: 'Share of availability answers served from the Redis seat cache since start',
      registers: [this.registry],
      async collect() {
        const counts = (await reads.get()).values;
        const cache = counts.find((value) => value.labels.source === 'cache')?.value ?? 0;
        const total = counts.reduce((sum, value) => sum + value.value, 0);
        this.set(total === 0 ? 0 : cache / total);
      },
    });
  }

  /**
   * The command role's gauge: commands waiting in the per-concert batching queues. Registered by
   * the role that has the queues (a registry is made to be added to), read at each scrape.
   */
  measureQueueDepth(depth: () => number): void {
    new Gauge({
      name: 'boxoffice_concert_queue_depth',
      help: 'Commands waiting in the per-concert batching queues',
      registers: [this.registry],
      collect() {
        this.set(depth());
      },
    });
  }

  /** The projector role's gauge: each projection's distance from the head of the store, in events. */
  measureProjectionLag(lag: () => Promise<readonly { name: string; lag: number }[]>): void {
    new Gauge({
      name: 'boxoffice_projection_lag_events',
      help: 'Events between a projection and the head of the event store',
      labelNames: ['projection'],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const { name, lag: events } of await lag()) this.set({ projection: name }, events);
      },
    });
  }

  /**
   * The command role's reactor gauges: events each reactor parked (could not handle, kept aside
   * with the reason) and its distance from the head of the store.
   */
  measureReactors(status: () => Promise<readonly { name: string; parked: number; lag: number }[]>): void {
    new Gauge({
      name: 'boxoffice_reactor_parked_events',
      help: 'Events a reactor could not handle after its tries, parked with the reason (reactors:status lists them)',
      labelNames: ['reactor'],
      registers: [this.registry],
      async collect() {
        const reactors = await status();
        this.reset();
        for (const { name, parked } of reactors) this.set({ reactor: name }, parked);
      },
    });
    new Gauge({
      name: 'boxoffice_reactor_lag_events',
      help: 'Events between a reactor\'s checkpoint and the head of the event store',
      labelNames: ['reactor'],
      registers: [this.registry],
      async collect() {
        const reactors = await status();
        this.reset();
        for (const { name, lag } of reactors) this.set({ reactor: name }, lag);
      },
    });
  }

  /** The query role's gauge of the door: tickets admitted per concert and class, read at each scrape. */
  measureAdmissions(admitted: () => Promise<readonly { concert_id: string; ticket_class_id: string; admitted: number }[]>): void {
    new Gauge({
      name: 'boxoffice_tickets_admitted',
      help: 'Tickets admitted at the door, per concert and ticket class',
      labelNames: ['concert_id', 'ticket_class_id'],
      registers: [this.registry],
      async collect() {
        const rows = await admitted();
        this.reset();
        for (const row of rows) this.set({ concert_id: row.concert_id, ticket_class_id: row.ticket_class_id }, row.admitted);
      },
    });
  }

  /**
   * The command role's waiting-room gauges, per concert with an open room, read from the
   * queue's state at each scrape (the same on every instance): places waiting, places admitted
   * in the last minute, passes used and expired, and the estimated wait of the last place.
   */
  measureWaitingRooms(rooms: () => Promise<readonly WaitingRoomFigures[]>): void {
    const gauges: [string, string, (room: WaitingRoomFigures) => number | null][] = [
      ['boxoffice_waiting_room_waiting', 'Places waiting to be admitted, per concert', (room) => room.waiting],
      ['boxoffice_waiting_room_admitted_last_minute', 'Places admitted in the last 60 s, per concert', (room) => room.admitted_last_minute],
      ['boxoffice_waiting_room_passes_used', 'Booking passes spent on a booking, per concert', (room) => room.passes_used],
      ['boxoffice_waiting_room_passes_expired', 'Booking passes that expired unused, per concert', (room) => room.passes_expired],
      ['boxoffice_waiting_room_estimated_wait_seconds', 'Estimated wait of the last place: waiting / the last minute\'s admission rate (absent while nobody was admitted in it)', (room) => room.estimated_wait_seconds],
    ];
    for (const [name, help, value] of gauges) {
      new Gauge({
        name,
        help,
        labelNames: ['concert_id'],
        registers: [this.registry],
        async collect() {
          const figures = await rooms();
          this.reset();
          for (const room of figures) {
            const figure = value(room);
            if (figure !== null) this.set({ concert_id: room.concert_id }, figure);
          }
        },
      });
    }
  }

  /** Records one HTTP request (`route` is the route's pattern, never the raw URL). */
  observeRequest(method: string, route: string, statusCode: number, seconds: number): void {
    const key = `${method} ${route} ${statusCode}`;
    let child = this.#httpChildren.get(key);
    if (child === undefined) {
      child = this.#http.labels({ method, route, status_code: String(statusCode) });
      this.#httpChildren.set(key, child);
    }
    child.observe(seconds);
  }
}

/** The event store, with its appends timed, counted when they conflict, and told to onAppended; everything else passes through. */
export class InstrumentedEventStore implements EventStore {
  /**
   * @param onAppended told the position of every successful append (to announce it to the
   * store's followers in other processes)
   */
  constructor(
    private readonly store: EventStore,
    private readonly metrics: Metrics,
    private readonly onAppended: (position: number) => void = () => undefined,
  ) {}

  async #timed<T>(operation: string, append: () => Promise<T>): Promise<T> {
    const end = this.metrics.appendSeconds.startTimer({ operation });
    try {
      return await append();
    } catch (error) {
      if (error instanceof WrongExpectedRevision) this.metrics.appendConflicts.inc();
      throw error;
    } finally {
      end();
    }
  }

  async append(...args: Parameters<EventStore['append']>): ReturnType<EventStore['append']> {
    const result = await this.#timed('append', () => this.store.append(...args));
    this.onAppended(result.position);
    return result;
  }

  async appendMany(writes: readonly StreamWrite[]): Promise<PromiseSettledResult<AppendResult>[]> {
    const results = await this.#timed('append_many', () => this.store.appendMany(writes));
    let last = 0;
    for (const result of results) {
      if (result.status === 'fulfilled') last = Math.max(last, result.value.position);
      else if (result.reason instanceof WrongExpectedRevision) this.metrics.appendConflicts.inc();
    }
    if (last > 0) this.onAppended(last);
    return results;
  }

  async appendAll(writes: readonly StreamWrite[]): Promise<AppendResult[] | null> {
    try {
      const results = await this.#timed('append_all', () => this.store.appendAll(writes));
      if (results !== null) this.onAppended(Math.max(...results.map((result) => result.position)));
      return results;
    } catch (error) {
      if (error instanceof WritesConflicted) this.metrics.appendConflicts.inc();
      throw error;
    }
  }

  streamRevisions(...args: Parameters<EventStore['streamRevisions']>): ReturnType<EventStore['streamRevisions']> {
    return this.store.streamRevisions(...args);
  }

  readStream(...args: Parameters<EventStore['readStream']>): ReturnType<EventStore['readStream']> {
    return this.store.readStream(...args);
  }

  readAll(...args: Parameters<EventStore['readAll']>): ReturnType<EventStore['readAll']> {
    return this.store.readAll(...args);
  }

  headPosition(): Promise<number> {
    return this.store.headPosition();
  }

  subscribe(...args: Parameters<EventStore['subscribe']>): ReturnType<EventStore['subscribe']> {
    return this.store.subscribe(...args);
  }

  saveSnapshot(...args: Parameters<EventStore['saveSnapshot']>): ReturnType<EventStore['saveSnapshot']> {
    return this.store.saveSnapshot(...args);
  }

  loadSnapshot(...args: Parameters<EventStore['loadSnapshot']>): ReturnType<EventStore['loadSnapshot']> {
    return this.store.loadSnapshot(...args);
  }

  appendedElsewhere(position: number): void {
    this.store.appendedElsewhere(position);
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
