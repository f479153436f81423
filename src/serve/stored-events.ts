import type { IncomingMessage, ServerResponse } from 'node:http';

/** At most one notice per second: the page re-queries on each, and a busy receiver stores many requests a second. */
export const MIN_EVENT_INTERVAL_MS = 1_000;
/** A comment line this often keeps idle proxies and browsers from dropping the stream. */
const HEARTBEAT_MS = 15_000;
/** What EventSource waits before reconnecting. */
const RECONNECT_MS = 2_000;

/** The notice `GET /api/events` pushes: stored data now reaches `to` (Unix ms); `samples` stored since the last notice. */
export interface StoredNotice {
  readonly to: number | null;
  readonly samples: number;
}

/**
 * Server-Sent Events for live mode: `event: stored` after new data is stored, coalesced to at most one per
 * MIN_EVENT_INTERVAL_MS. Ids are increasing across restarts (milliseconds-based), so a client that resumes
 * with a `Last-Event-ID` older than the latest notice gets that notice at once instead of waiting for more
 * data.
 */
export class StoredEvents {
  private readonly clients = new Set<ServerResponse>();
  private pendingSamples = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastEmitMs = 0;
  private lastId = 0;
  private last: { id: number; notice: StoredNotice } | undefined;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(private readonly newestMs: () => Promise<number | null>) {
    this.heartbeat = setInterval(() => this.write(': keep-alive\n\n'), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Called after each stored request. */
  stored(samples: number): void {
    this.pendingSamples += samples;
    if (this.timer !== undefined) return;
    const wait = Math.max(0, this.lastEmitMs + MIN_EVENT_INTERVAL_MS - Date.now());
    this.timer = setTimeout(() => void this.emit(), wait);
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(`retry: ${RECONNECT_MS}\n\n`);
    this.clients.add(res);
    req.socket.setNoDelay(true);
    res.once('close', () => this.clients.delete(res));
    const resumeFrom = Number(req.headers['last-event-id']);
    if (this.last && Number.isFinite(resumeFrom) && resumeFrom < this.last.id) {
      res.write(frame(this.last.id, this.last.notice));
    }
  }

  /** Ends every stream (shutdown). */
  close(): void {
    clearInterval(this.heartbeat);
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private async emit(): Promise<void> {
    const samples = this.pendingSamples;
    this.pendingSamples = 0;
    this.lastEmitMs = Date.now();
    let to: number | null = null;
    try {
      to = await this.newestMs();
    } catch {
      // The store closing under us: the notice still says that something arrived.
    }
    this.timer = undefined;
    const id = Math.max(this.lastId + 1, Date.now());
    this.lastId = id;
    const notice = { to, samples };
    this.last = { id, notice };
    this.write(frame(id, notice));
    if (this.pendingSamples > 0) this.stored(0); // more arrived while reading the store
  }

  private write(text: string): void {
    for (const res of this.clients) res.write(text);
  }
}

function frame(id: number, notice: StoredNotice): string {
  return `id: ${id}\nevent: stored\ndata: ${JSON.stringify(notice)}\n\n`;
}
