import type { StoredNotice } from './api-types.js';

export type LiveStatus = 'off' | 'connecting' | 'live' | 'reconnecting';

/**
 * Follows `/api/events` (Server-Sent Events). EventSource reconnects by itself and resumes with
 * Last-Event-ID; notices arrive at most about once a second, and the page re-queries on each.
 */
export class LiveFeed {
  private source: EventSource | null = null;

  constructor(
    private readonly onStored: (notice: StoredNotice) => void,
    private readonly onStatus: (status: LiveStatus) => void,
  ) {}

  get running(): boolean {
    return this.source !== null;
  }

  start(): void {
    if (this.source) return;
    const source = new EventSource('/api/events');
    this.source = source;
    this.onStatus('connecting');
    source.addEventListener('open', () => this.onStatus('live'));
    source.addEventListener('error', () =>
      this.onStatus(source.readyState === EventSource.CLOSED ? 'off' : 'reconnecting'),
    );
    source.addEventListener('stored', (e) => {
      let notice: StoredNotice;
      try {
        notice = JSON.parse((e as MessageEvent<string>).data) as StoredNotice;
      } catch {
        notice = { to: Date.now(), samples: 0 };
      }
      this.onStored(notice);
    });
  }

  stop(): void {
    this.source?.close();
    this.source = null;
    this.onStatus('off');
  }
}
